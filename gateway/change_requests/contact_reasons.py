"""Contact-reason codes: which fit which kind of request is configuration (BG_CONTACT_REASONS)."""

from __future__ import annotations

from collections.abc import Sequence

from settings import Settings


def reasons_fit_kind(settings: Settings, kind: str, reasons: Sequence[str]) -> bool:
    """False when a reason belongs to no list for this kind: triage shows it as misrouted.
    No reason at all fits nothing either: the ticket tool lost the routing."""
    allowed = set(settings.contact_reasons.get(kind, ()))
    return bool(reasons) and all(reason in allowed for reason in reasons)
