"""Why a request is in Triage, in the reader's language.

The lifecycle job stores its reason as an English sentence (gateway.change_requests.lifecycle)
and the `triage` view adds its own (stale, unassigned, reasons that do not fit), joined by
". ": these are the shapes they take, so that a French or Arabic lead reads them translated."""

from __future__ import annotations

from gateway.i18n import N_
from gateway.i18n.stored import StoredSentences

WHY_TEMPLATES = (
    N_("Unassigned"),
    N_("Contact reasons do not fit"),
    N_("Expired: no action by {who} for 1 day"),
    N_("Expired: no action by {who} for {count} days"),
    N_("Customer did not answer for 1 day: close or re-post"),
    N_("Customer did not answer for {count} days: close or re-post"),
    N_("Returned: {who} was deactivated"),
    N_("Stale: no progress by {who} for {count} days"),
    N_("Stale: no progress by {who} for {count} hours"),
    N_("Stale: no progress for {count} days"),
    N_("Stale: no progress for {count} hours"),
)


_WHY = StoredSentences(WHY_TEMPLATES)


def translated_why(why: str) -> str:
    return ". ".join(_WHY.said_again(part) for part in why.split(". ") if part)
