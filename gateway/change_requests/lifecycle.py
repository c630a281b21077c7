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
from audit.entry import SYSTEM
from gateway.change_requests.references import subject_of
from gateway.core.db.connection import fetch, transaction
from gateway.notifications.change_request_events import record_change_request_event
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


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def expired_reason(username: str | None, idle_days: int) -> str:
    return f"Expired: no action by {username or 'its assignee'} for {_days(idle_days)}"


def customer_silent_reason(idle_days: int) -> str:
    return f"Customer did not answer for {_days(idle_days)}: close or re-post"


def deactivated_reason(username: str) -> str:
    return f"Returned: {username} was deactivated"


_ROW = """
SELECT r.id, r.status, r.client, r.assignee_id, s.username AS assignee,
       GREATEST(floor(extract(epoch FROM now() - r.progress_at) / 86400), 0)::integer
           AS idle_days,
       r.backoffice_id, r.zuora_account_id, r.stripe_customer_id, r.stripe_connect_account_id
  FROM change_requests r
  LEFT JOIN staff_users s ON s.id = r.assignee_id
"""
_IDLE = (
    " WHERE r.status = ANY($1::text[]) AND r.triage_reason IS NULL"
    " AND r.progress_at < now() - make_interval(days => $2)"
    " ORDER BY r.progress_at LIMIT $3 FOR UPDATE OF r SKIP LOCKED"
)
_MARK = """
UPDATE change_requests
   SET status = $2, assignee_id = CASE WHEN $3 THEN NULL ELSE assignee_id END,
       assigned_at = CASE WHEN $3 THEN NULL ELSE assigned_at END,
       triage_reason = $4, triage_kind = $5, triage_reason_at = now(), updated_at = now()
 WHERE id = $1
"""


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
    rows = await fetch(
        _ROW + " WHERE r.assignee_id = $1 AND r.status = ANY($2::text[])"
        " ORDER BY r.created_at FOR UPDATE OF r",
        staff_user_id,
        list(OWN_WORK),
    )
    reason = deactivated_reason(username)
    for row in rows:
        status = "rejected" if row["status"] == "rejected" else "new"
        await _change(
            row,
            actor,
            "change_request.return_to_triage.succeeded",
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
            rows = await fetch(_ROW + _IDLE, list(statuses), days, BATCH)
            for row in rows:
                await handle(row)
        done += len(rows)
        if len(rows) < BATCH:
            return done


async def _expire(row: dict[str, Any]) -> None:
    await _change(
        row,
        SYSTEM,
        "change_request.expire.succeeded",
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
        "change_request.customer_silence.marked",
        EventType.CHANGE_REQUEST_CUSTOMER_SILENT,
        status=row["status"],
        unassign=False,
        reason=customer_silent_reason(row["idle_days"]),
        kind=TriageKind.CUSTOMER_SILENT,
    )


async def _change(
    row: dict[str, Any],
    actor: Actor,
    action: str,
    event: EventType,
    *,
    status: str,
    unassign: bool,
    reason: str,
    kind: TriageKind,
) -> None:
    request_id: uuid.UUID = row["id"]
    await fetch(_MARK, request_id, status, unassign, reason, kind.value)
    assignee = None if unassign else row["assignee"]
    await append(
        AuditEntry(
            action=action,
            actor=actor,
            target_type="change_request",
            target_id=str(request_id),
            subject=subject_of(row),
            reason=reason,
            before={"status": row["status"], "assignee": row["assignee"]},
            after={"status": status, "assignee": assignee, "triage_reason": kind.value},
        )
    )
    await record_change_request_event(event, request_id, extra={"triage_reason": reason})
