"""A change request as Apply reads, locks and moves it: one state machine (change_requests'
states), and an audit entry with every move, keyed by the request's customer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from audit import AuditEntry, append
from audit.actions import Action
from audit.entry import Actor
from gateway.change_requests import queries
from gateway.change_requests.notification_events import record_transition
from gateway.change_requests.states import Kind, Status, Transition, next_status
from gateway.core.customers import references_of
from gateway.core.db.connection import fetch
from gateway.core.db.rows import loaded
from gateway.core.errors import BillingError, ErrorCode


@dataclass(frozen=True)
class RequestRow:
    id: uuid.UUID
    kind: Kind
    status: Status
    client: str
    assignee_id: int | None
    processed_by_id: int | None
    details: dict[str, Any]
    customer: dict[str, object]  # its references
    iban_ciphertext: str | None


def not_found(request_id: uuid.UUID) -> BillingError:
    return BillingError(
        ErrorCode.CHANGE_REQUEST_NOT_FOUND, f"No change request has the id {request_id}."
    )


def request_of(row: dict[str, Any]) -> RequestRow:
    return RequestRow(
        id=row["id"],
        kind=Kind(row["kind"]),
        status=Status(row["status"]),
        client=row["client"],
        assignee_id=row["assignee_id"],
        processed_by_id=row["processed_by_id"],
        details=loaded(row["details"]) or {},
        customer=references_of(row),
        iban_ciphertext=row["iban_ciphertext"],
    )


async def load_request(request_id: uuid.UUID) -> RequestRow:
    rows = await fetch(queries.ROW, request_id)
    if not rows:
        raise not_found(request_id)
    return request_of(rows[0])


async def lock_request(request_id: uuid.UUID) -> RequestRow:
    rows = await fetch(queries.LOCK_ROW, request_id)
    if not rows:
        raise not_found(request_id)
    return request_of(rows[0])


async def move(
    request: RequestRow,
    transition: Transition,
    actor: Actor,
    action: Action,
    *,
    reason: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Status:
    """The request's next status by `transition`, with its audit entry (in the caller's
    transaction)."""
    target = next_status(request.status, transition)
    await queries.move(request.id, {"status": target.value})
    await audit(
        actor,
        request,
        action,
        {"status": request.status.value},
        {"status": target.value, **(extra or {})},
        reason,
    )
    await record_transition(request.id, transition)
    return target


async def audit(
    actor: Actor,
    request: RequestRow,
    action: Action,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str | None = None,
) -> None:
    await append(
        AuditEntry(
            action=action,
            actor=actor,
            about={"id": request.id, **request.customer},
            reason=reason,
            before=before,
            after=after,
        )
    )
