"""The provider's part of a cheque, written after the row that says it is under way: record
it (`recording` -> `recorded`, or `failed` with a sentence when the provider refuses), or
reverse it (`bouncing` -> `bounced`, or back to `recorded` when the provider refuses). An
unreachable provider leaves the row as it is, for a retry or the minute sweep: repeating a
write is safe, the provider finds the payment by its payment number.

Each outcome is stored once (the update names the status it leaves), with its audit entry and
notification in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from adapters.ports import Money, NewOfflinePayment, OfflinePayment
from audit.actions import Action
from audit.entry import SYSTEM, Actor
from gateway.cheques import queries
from gateway.cheques.checks import offline_adapter
from gateway.cheques.events import record_cheque_event
from gateway.cheques.records import (
    audit,
    cheque_audit_after,
    cheque_read,
    load_cheque,
)
from gateway.cheques.schemas import ChequeRead
from gateway.core.db.connection import fetch, transaction
from gateway.core.db.rows import loaded
from gateway.core.errors import BillingError, is_unavailable
from gateway.core.log import get_logger
from gateway.fulfilment.resilience import ProviderGuard
from gateway.idempotency.answers import AnswerSlot, store_answer
from gateway.notifications.events import EventType
from gateway.providers import Providers

_log = get_logger("gateway.cheques")


def new_payment(row: dict[str, Any]) -> NewOfflinePayment:
    return NewOfflinePayment(
        account_id=row["account_id"],
        invoice_id=row["invoice_id"],
        amount=Money(int(row["amount_minor"]), row["currency"]),
        reference=row["reference"],
        payment_number=row["payment_number"],
        effective_on=row["business_date"],
        description=f"Cheque {row['number']}",
    )


def bounce_key(row: dict[str, Any]) -> str:
    return f"{row['payment_number']}:reverse"


def _actor_of(value: Any) -> Actor:
    found = loaded(value) or {}
    if not found.get("kind"):
        return SYSTEM
    return Actor(kind=found["kind"], id=str(found.get("id", "")), role=found.get("role"))


# Longer than any one provider call with its retries: a process that died holding a lease
# frees the cheque for the sweep after this.
LEASE_SECONDS = 120


async def _lease(cheque_id: uuid.UUID, status: str) -> dict[str, Any] | None:
    """Take the row for one provider call, or None while another request, job or the sweep
    holds it: two writes of one cheque at once could meet at the provider as a conflict (an
    idempotency key in flight) and undo each other's outcome."""
    leased = await queries.lease(cheque_id, status, LEASE_SECONDS)
    return await load_cheque(cheque_id) if leased else None


async def _call_provider(
    guard: ProviderGuard,
    row: dict[str, Any],
    call: Callable[[], Awaitable[OfflinePayment]],
    *,
    on_refused: Callable[[dict[str, Any], BillingError], Awaitable[None]],
) -> OfflinePayment | None:
    """The leased cheque's one provider call under the circuit. A refusal is stored by
    `on_refused` and raised; an unreachable provider frees the lease and answers None (the
    cheque stays as it is, for a retry or the sweep)."""
    try:
        return await guard.call_once(row["provider"], call)
    except BillingError as refused:
        if is_unavailable(refused):
            await fetch(queries.RELEASE, row["id"])  # a retry or the sweep may take it at once
            return None
        await on_refused(row, refused)
        raise
    except Exception as error:
        await fetch(queries.RELEASE, row["id"])
        if is_unavailable(error):
            _log.info(
                "cheque left for a retry",
                cheque_id=str(row["id"]),
                status=row["status"],
                error=str(error),
            )
            return None
        raise


async def record_at_provider(
    providers: Providers,
    guard: ProviderGuard,
    cheque_id: uuid.UUID,
    answer: AnswerSlot | None = None,
) -> ChequeRead:
    """A `recording` cheque written at the provider; the cheque as it is then. A refusal is
    stored and raised; an outage leaves it `recording`."""
    leased = await _lease(cheque_id, "recording")
    if leased is None:
        return cheque_read(await load_cheque(cheque_id))
    row = leased
    adapter = offline_adapter(providers, row["provider"])
    written = await _call_provider(
        guard,
        row,
        lambda: adapter.record_offline_payment(
            new_payment(row), idempotency_key=row["payment_number"]
        ),
        on_refused=_failed,
    )
    if written is None:
        return cheque_read(row)
    async with transaction():
        done = await queries.recorded(cheque_id, written.id, written.invoice_status)
        row = await load_cheque(cheque_id)
        if done:
            await audit(
                _actor_of(row["entered_by"]),
                {"account_id": row["account_id"]},
                str(cheque_id),
                Action.CHEQUE_RECORD_SUCCEEDED,
                cheque_audit_after(row),
            )
            await record_cheque_event(EventType.CHEQUE_RECORDED, cheque_id)
        read = cheque_read(row)
        await store_answer(answer, HTTP_201_CREATED, read)
    return read


async def _failed(row: dict[str, Any], refused: BillingError) -> None:
    async with transaction():
        if await queries.failed(row["id"], str(refused.detail)):
            after = cheque_audit_after(await load_cheque(row["id"]))
            await audit(
                _actor_of(row["entered_by"]),
                {"account_id": row["account_id"]},
                str(row["id"]),
                Action.CHEQUE_RECORD_FAILED,
                after,
                reason=refused.code.value,
            )


async def reverse_at_provider(
    providers: Providers,
    guard: ProviderGuard,
    cheque_id: uuid.UUID,
    answer: AnswerSlot | None = None,
) -> ChequeRead:
    """A `bouncing` cheque reversed at the provider; the cheque as it is then. A refusal puts
    it back to `recorded` (audited) and is raised; an outage leaves it `bouncing`."""
    leased = await _lease(cheque_id, "bouncing")
    if leased is None:
        return cheque_read(await load_cheque(cheque_id))
    row = leased
    adapter = offline_adapter(providers, row["provider"])
    reversed_ = await _call_provider(
        guard,
        row,
        lambda: adapter.reverse_offline_payment(
            row["account_id"],
            row["payment_number"],
            reason=row["bounce_reason"] or "bounced",
            idempotency_key=bounce_key(row),
        ),
        on_refused=_not_reversed,
    )
    if reversed_ is None:
        return cheque_read(row)
    async with transaction():
        done = await queries.bounced(cheque_id, reversed_.invoice_status)
        row = await load_cheque(cheque_id)
        if done:
            await audit(
                _actor_of(row["bounced_by"]),
                {"account_id": row["account_id"]},
                str(cheque_id),
                Action.CHEQUE_BOUNCE_SUCCEEDED,
                cheque_audit_after(row),
                before={"status": "recorded"},
                reason=row["bounce_reason"],
            )
            await record_cheque_event(EventType.CHEQUE_BOUNCED, cheque_id)
        read = cheque_read(row)
        await store_answer(answer, HTTP_200_OK, read)
    return read


async def _not_reversed(row: dict[str, Any], refused: BillingError) -> None:
    async with transaction():
        if await queries.not_bounced(row["id"]):
            await audit(
                _actor_of(row["bounced_by"]),
                {"account_id": row["account_id"]},
                str(row["id"]),
                Action.CHEQUE_BOUNCE_REFUSED,
                {"status": "recorded", "error": str(refused.detail)},
                reason=refused.code.value,
            )


async def finish(providers: Providers, guard: ProviderGuard, cheque_id: uuid.UUID) -> str:
    """The worker's part: a `recording` or `bouncing` cheque carried on; its status then. A
    refusal is stored (failed, or back to recorded), never raised: the job is done."""
    row = await load_cheque(cheque_id)
    try:
        if row["status"] == "recording":
            return (await record_at_provider(providers, guard, cheque_id)).status
        if row["status"] == "bouncing":
            return (await reverse_at_provider(providers, guard, cheque_id)).status
    except BillingError as refused:
        if is_unavailable(refused):
            raise
        _log.info("cheque refused by the provider", cheque_id=str(cheque_id), code=refused.code)
    return str((await load_cheque(cheque_id))["status"])
