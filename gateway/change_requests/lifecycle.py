"""The ticket lifecycle: requests nobody is acting on go back to a team lead, with the reason.

- Expired: assigned or in progress with no action by its assignee for `triage_expire_days`
  (`progress_at`, which every workflow step and Apply move; reading a page or refreshing the
  pre-checks is not an action) -> new and unassigned, back in Triage for anyone to claim.
- Customer silent: waiting on the customer for `customer_silent_days` -> marked for the lead,
  who closes it (cancel, "customer did not answer") or re-posts it (resume or reassign); it stays
  waiting and with its specialist until then.
- Returned: its specialist was deactivated -> unassigned at once, in the deactivation's
  transaction. Requests before Apply go back to new; a rejected one (sent back by a lead, maybe
  already applied at a provider) stays rejected, so that it is never claimed blindly from the
  queue: it waits in Triage for a lead to give it, with the lead's comment, to someone.

Each change writes `triage_reason` (the sentence the lead reads), its audit entry and its
notification in one transaction. Any later action on the request clears the reason (a trigger
on `progress_at`, see the migration of 2026-12-07T11:00). The job locks rows with
FOR UPDATE SKIP LOCKED: two workers never handle one request twice, and a request someone is
acting on right now is left for the next run.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from audit import Actor, AuditEntry, append
from audit.actions import Action
from audit.entry import SYSTEM
from gateway.change_requests import queries
from gateway.change_requests.notification_events import record_change_request_event
from gateway.core.db.connection import fetch, transaction
from gateway.i18n import N_
from gateway.i18n.labels import LABELS
from gateway.notifications.events import EventType
from settings import Settings

BATCH = 50
# Before anything was sent to a provider, the specialist's own work (states._BEFORE_APPLY).
OWN_WORK = ("assigned", "in_progress", "waiting_customer", "rejected")


RowHandler = Callable[[dict[str, Any]], Awaitable[None]]


class TriageKind(enum.StrEnum):
    EXPIRED = "expired"
    CUSTOMER_SILENT = "customer_silent"
    STAFF_DEACTIVATED = "staff_deactivated"


LABELS.update(
    {
        TriageKind.EXPIRED: N_("Expired"),
        TriageKind.CUSTOMER_SILENT: N_("Customer did not answer"),
        TriageKind.STAFF_DEACTIVATED: N_("Specialist deactivated"),
    }
)


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def expired_reason(username: str | None, idle_days: int) -> str:
    return f"Expired: no action by {username or 'its assignee'} for {_days(idle_days)}"


def customer_silent_reason(idle_days: int) -> str:
    return f"Customer did not answer for {_days(idle_days)}: close or re-post"


def deactivated_reason(username: str) -> str:
    return f"Returned: {username} was deactivated"


async def expire_idle_requests(settings: Settings) -> int:
    """Assigned or in-progress requests idle for `triage_expire_days`: back to Triage."""
    return await _sweep(("assigned", "in_progress"), settings.triage_expire_days, _expire)


async def mark_silent_customers(settings: Settings) -> int:
    """Requests waiting on the customer for `customer_silent_days`: marked for the lead."""
    return await _sweep(("waiting_customer",), settings.customer_silent_days, _mark_silent)


async def run_lifecycle(settings: Settings) -> dict[str, int]:
    return {
        "expired": await expire_idle_requests(settings),
        "customer_silent": await mark_silent_customers(settings),
    }


async def return_open_requests(staff_user_id: object, username: str, actor: Actor) -> int:
    """A deactivated specialist's requests before Apply, back to Triage now, in the caller's
    transaction (the deactivation's). Waits for rows someone is acting on: none is left behind.
    """
    rows = await fetch(queries.LOCK_ASSIGNED, staff_user_id, list(OWN_WORK))
    reason = deactivated_reason(username)
    for row in rows:
        status = "rejected" if row["status"] == "rejected" else "new"
        await _change(
            row,
            actor,
            Action.CHANGE_REQUEST_RETURN_TO_TRIAGE_SUCCEEDED,
            EventType.CHANGE_REQUEST_RETURNED_TO_TRIAGE,
            status=status,
            unassign=True,
            reason=reason,
            kind=TriageKind.STAFF_DEACTIVATED,
        )
    return len(rows)


async def _sweep(statuses: tuple[str, ...], days: int, handle: RowHandler) -> int:
    done = 0
    while True:
        async with transaction():
            rows = await fetch(queries.LOCK_IDLE, list(statuses), days, BATCH)
            for row in rows:
                await handle(row)
        done += len(rows)
        if len(rows) < BATCH:
            return done


async def _expire(row: dict[str, Any]) -> None:
    await _change(
        row,
        SYSTEM,
        Action.CHANGE_REQUEST_EXPIRE_SUCCEEDED,
        EventType.CHANGE_REQUEST_EXPIRED,
        status="new",
        unassign=True,
        reason=expired_reason(row["assignee"], row["idle_days"]),
        kind=TriageKind.EXPIRED,
    )


async def _mark_silent(row: dict[str, Any]) -> None:
    await _change(
        row,
        SYSTEM,
        Action.CHANGE_REQUEST_MARK_CUSTOMER_SILENT_SUCCEEDED,
        EventType.CHANGE_REQUEST_CUSTOMER_SILENT,
        status=row["status"],
        unassign=False,
        reason=customer_silent_reason(row["idle_days"]),
        kind=TriageKind.CUSTOMER_SILENT,
    )


async def _change(
    row: dict[str, Any],
    actor: Actor,
    action: Action,
    event: EventType,
    *,
    status: str,
    unassign: bool,
    reason: str,
    kind: TriageKind,
) -> None:
    request_id: uuid.UUID = row["id"]
    await fetch(queries.MARK_FOR_TRIAGE, request_id, status, unassign, reason, kind.value)
    assignee = None if unassign else row["assignee"]
    await append(
        AuditEntry(
            action=action,
            actor=actor,
            about=row,
            target_id=str(request_id),
            reason=reason,
            before={"status": row["status"], "assignee": row["assignee"]},
            after={"status": status, "assignee": assignee, "triage_reason": kind.value},
        )
    )
    await record_change_request_event(event, request_id, extra={"triage_reason": reason})
