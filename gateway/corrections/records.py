"""A correction's rows as the service and the runner read, lock and show them, and its audit
entries (keyed by the provider's customer)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from audit import AuditEntry, append
from audit.actions import Action
from audit.entry import Actor
from gateway.core.db.connection import fetch
from gateway.core.db.rows import loaded
from gateway.core.errors import BillingError, ErrorCode
from gateway.corrections import queries
from gateway.corrections.plan import payload_hash
from gateway.corrections.schemas import (
    ApprovalRead,
    Computation,
    CorrectionRead,
    RequesterRead,
    StepPayload,
    StepRead,
)
from gateway.i18n import Message
from gateway.tickets import display_ticket

FINAL = frozenset({"succeeded", "failed", "refused"})


def not_found(correction_id: uuid.UUID) -> BillingError:
    return BillingError(
        ErrorCode.CORRECTION_NOT_FOUND,
        Message("No correction has the id {id}.", id=str(correction_id)),
    )


async def load(correction_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any]:
    row = await queries.correction_row(correction_id, lock=lock)
    if row is None:
        raise not_found(correction_id)
    return dict(row)


def stored_hash(row: dict[str, Any]) -> str:
    """What the stored payload hashes to now (the runner and the approval check it)."""
    return payload_hash(row["kind"], row["provider"], row["account_id"], loaded(row["payload"]))


async def audit(
    actor: Actor,
    row: dict[str, Any],
    action: Action,
    after: dict[str, Any],
    *,
    before: dict[str, Any] | None = None,
    reason: str | None = None,
    provider_request_ids: dict[str, str] | None = None,
) -> None:
    await append(
        AuditEntry(
            action=action,
            actor=actor,
            about=row,
            reason=reason,
            before=before or {},
            after=after,
            provider_request_ids=provider_request_ids or {},
        )
    )


def _who(actor: Any) -> str | None:
    found = loaded(actor)
    return str(found.get("name") or found.get("id")) if isinstance(found, dict) else None


def _requester(row: dict[str, Any]) -> RequesterRead:
    found = loaded(row["requested_by"]) or {}
    asked = found.get("on_behalf_of") or {}
    name = str(found.get("name") or found.get("id") or "")
    if asked.get("name"):
        name = f"{asked['name']} (via {name})"
    return RequesterRead(kind=str(found.get("kind", "")), name=name, email=asked.get("email"))


def read_of(row: dict[str, Any], steps: list[dict[str, Any]]) -> CorrectionRead:
    computation = loaded(row["computation"])
    return CorrectionRead(
        id=row["id"],
        kind=row["kind"],
        provider=row["provider"],
        account_id=row["account_id"],
        status=row["status"],
        reason=row["reason"],
        ticket=row["ticket"],
        ticket_display=display_ticket(row["ticket"]) or None,
        payload=msgspec.convert(loaded(row["payload"]), list[StepPayload]),
        payload_hash=row["payload_hash"],
        computation=msgspec.convert(computation, Computation) if computation else None,
        approval=ApprovalRead(
            required=row["approval_required"],
            rule=row["approval_rule"] or "",
            approved_by=_who(row["approved_by"]),
            refused_by=_who(row["refused_by"]),
            refusal_reason=row["refusal_reason"],
            decided_at=row["decided_at"],
        ),
        steps=[
            StepRead(
                position=s["position"],
                operation=s["operation"],
                status=s["status"],
                result=loaded(s["result"]),
                provider_request_id=s["provider_request_id"],
                error_code=s["error_code"],
                error_message=s["error_message"],
                started_at=s["started_at"],
                finished_at=s["finished_at"],
                settled_reason=s["settled_reason"],
            )
            for s in steps
        ],
        requested_by=_requester(row),
        provider_events=list(loaded(row["provider_events"]) or []),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        error_code=row["error_code"],
        error_message=row["error_message"],
    )


async def steps_of(correction_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    found: dict[uuid.UUID, list[dict[str, Any]]] = {cid: [] for cid in correction_ids}
    if correction_ids:
        for step in await fetch(queries.STEPS_SHOWN, correction_ids):
            found[step["correction_id"]].append(dict(step))
    return found


async def correction_read(correction_id: uuid.UUID) -> CorrectionRead:
    row = await load(correction_id)
    return read_of(row, (await steps_of([row["id"]]))[row["id"]])
