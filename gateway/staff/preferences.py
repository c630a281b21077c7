"""A staff member's back-office language and time zone: checked, saved and audited together.
None follows the browser's language / the gateway's `staff_time_zone`."""

from __future__ import annotations

import dataclasses

from audit import AuditEntry, append
from audit.actions import Action
from gateway.core.db.connection import fetch, transaction
from gateway.core.errors import BillingError, ErrorCode
from gateway.i18n import LANGUAGES, Message, valid_time_zone
from gateway.staff import queries
from gateway.staff.member import StaffMember


def checked(language: str | None, time_zone: str | None) -> tuple[str | None, str | None]:
    """The two values, or a refusal that names what is wrong (never a database error)."""
    if language is not None and language not in LANGUAGES:
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            Message("The back office is in English, French or Arabic; pick one of those."),
        )
    if time_zone is not None and valid_time_zone(time_zone) is None:
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            Message("That time zone is not one this server knows; pick one from the list."),
        )
    return language, time_zone


async def save_preferences(
    staff: StaffMember, language: str | None, time_zone: str | None
) -> StaffMember:
    """Store both values and their entry in one transaction; the entry holds nothing else."""
    language, time_zone = checked(language, time_zone)
    async with transaction():
        rows = await fetch(queries.LOCK_PREFERENCES, staff.id)
        if not rows:
            raise BillingError(
                ErrorCode.STAFF_NOT_FOUND, Message("This staff account no longer exists.")
            )
        await fetch(
            queries.SET_PREFERENCES,
            staff.id,
            language,
            time_zone,
        )
        await append(
            AuditEntry(
                action=Action.STAFF_UPDATE_PREFERENCES_SUCCEEDED,
                actor=staff.actor,
                about={},
                target_id=staff.username,
                before={"language": rows[0]["language"], "time_zone": rows[0]["time_zone"]},
                after={"language": language, "time_zone": time_zone},
            )
        )
    return dataclasses.replace(staff, language=language, time_zone=time_zone)
