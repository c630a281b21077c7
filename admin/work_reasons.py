"""The contact reasons a specialist chose on the work page when applying: the request's
resolution reasons (what Mark Processed used to record with its note), audited."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from audit import AuditEntry, append
from audit.actions import Action
from gateway.change_requests import queries
from gateway.core.db.connection import fetch, transaction
from gateway.core.errors import BillingError, ErrorCode
from gateway.i18n import Message
from gateway.staff.member import StaffMember
from settings import Settings


def chosen_reasons(settings: Settings, chosen: Sequence[str]) -> list[str]:
    """The reasons, each a known code, at least one; refused before anything is applied."""
    known = settings.all_contact_reasons
    reasons = list(dict.fromkeys(reason for reason in chosen if reason))
    unknown = [reason for reason in reasons if reason not in known]
    if unknown or not reasons:
        raise BillingError(
            ErrorCode.CONTACT_REASON_UNKNOWN,
            Message(
                "Choose at least one contact reason from the list; not known: {unknown}.",
                unknown=", ".join(unknown),
            )
            if unknown
            else Message("Choose at least one contact reason from the list."),
        )
    return reasons


async def record_reasons(staff: StaffMember, request_id: uuid.UUID, reasons: list[str]) -> None:
    """Stored on the request the staff member just applied (they are its maker)."""
    async with transaction():
        rows = await fetch(queries.RECORD_REASONS, request_id, reasons, staff.id)
        if not rows:
            return  # applied by someone else meanwhile: their reasons stand
        await append(
            AuditEntry(
                action=Action.CHANGE_REQUEST_CONTACT_REASONS_RECORDED,
                actor=staff.actor,
                about=rows[0],
                target_id=str(request_id),
                before={},
                after={"resolution_reasons": reasons},
            )
        )
