"""The worker's part of a correction: its steps, one after the other (the cancel before its
refund or void). Each step is marked `calling` (committed) before its provider call, called
outside any transaction with its own stable key (`bg:corr:{id}:{provider}:{operation}:{n}`),
and recorded with its audit entry in one transaction: a crash anywhere resumes at the step it
stopped at, and a call whose answer was lost is repeated with the same key, which the adapters
settle at the provider (never a second refund). Only a provider's refusal fails a step, and the
correction with it; unavailability is retried until the deadline, then the correction stops as
failed with the step's outcome still unknown (`calling`).

Before the first step the stored payload must still hash to the hash approved (or filed):
a payload changed since is never carried out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any, cast

from adapters.ports import InvoiceVoiding, Money, Refunds, Subscriptions
from audit.actions import Action
from audit.entry import SYSTEM
from gateway.core.db.connection import fetch, transaction
from gateway.core.db.rows import as_json, loaded
from gateway.core.errors import BillingError, ErrorCode, is_unavailable
from gateway.core.log import get_logger
from gateway.corrections import queries
from gateway.corrections.notification_events import record_correction_event
from gateway.corrections.records import audit, load, stored_hash
from gateway.fulfilment.resilience import ProviderGuard
from gateway.i18n import Message
from gateway.metrics.provider_steps import observed_step
from gateway.notifications.events import EventType
from gateway.providers import Providers

_log = get_logger("gateway.corrections")
Outcome = tuple[dict[str, Any], list[str]]  # the step's result, and provider ids it made


class CorrectionRunner:
    def __init__(self, providers: Providers, guard: Callable[[], ProviderGuard]) -> None:
        self._providers = providers
        self._guard = guard

    async def advance(self, correction_id: uuid.UUID) -> str:
        """Run the correction's next steps until it is done or fails; returns its status."""
        while True:
            claimed = await self._claim_next_step(correction_id)
            if isinstance(claimed, str):
                return claimed
            await self._call_step(claimed)

    async def _claim_next_step(self, correction_id: uuid.UUID) -> dict[str, Any] | str:
        async with transaction():
            try:
                row = await load(correction_id, lock=True)
            except BillingError:
                return "missing"
            if row["status"] != "running":
                return str(row["status"])
            steps = await fetch(queries.STEPS_TO_RUN, correction_id)
            if all(s["status"] == "pending" for s in steps):
                changed = self._changed_payload(row)
                if changed is not None:
                    await self._finish(row, "failed", ErrorCode.PAYLOAD_CHANGED.value, changed)
                    return "failed"
            done = ("succeeded", "settled_by_hand")
            following = next((s for s in steps if s["status"] not in done), None)
            if following is None:
                await self._finish(row, "succeeded", None, None)
                return "succeeded"
            await fetch(queries.STEP_CALLING, following["id"])
            await fetch(queries.TOUCH, correction_id)
            return {
                **following,
                "inputs": loaded(following["inputs"]),
                "row": row,
                "deadline_at": row["deadline_at"],
            }

    @staticmethod
    def _changed_payload(row: dict[str, Any]) -> str | None:
        now = stored_hash(row)
        bound = row["approved_hash"] if row["approval_required"] else row["payload_hash"]
        if now == row["payload_hash"] == bound:
            return None
        return (
            "The correction's payload changed after it was filed or approved, so nothing was "
            "carried out; file it again, and have it approved again where it needs approval."
        )

    async def _finish(
        self, row: dict[str, Any], status: str, code: str | None, sentence: str | None
    ) -> None:
        await fetch(queries.FINISH_RUNNING, row["id"], status, code, sentence)
        await audit(
            SYSTEM,
            row,
            Action.named("correction", "run", status),
            {"status": status, "error_code": code},
            before={"status": row["status"]},
            reason=code,
        )
        event = (
            EventType.CORRECTION_SUCCEEDED if status == "succeeded" else EventType.CORRECTION_FAILED
        )
        await record_correction_event(event, row["id"])

    async def _call_step(self, step: dict[str, Any]) -> None:
        adapter = self._providers.get(step["provider"])

        async def once() -> Outcome:
            if adapter is None:
                raise BillingError(
                    ErrorCode.PROVIDER_NOT_CONFIGURED,
                    Message(
                        "The gateway has no {provider} configured; this step cannot run.",
                        provider=step["provider"],
                    ),
                )
            return await run_operation(adapter, step)

        try:
            with observed_step("correction", step["provider"], step["operation"]):
                outcome = await self._guard().call(
                    step["provider"], once, deadline=step["deadline_at"]
                )
        except Exception as error:  # recorded below; never lost
            await self._record_failure(step, error, _calls_of(adapter, step["idempotency_key"]))
            return
        await self._record_success(step, outcome, _calls_of(adapter, step["idempotency_key"]))

    async def _record_success(
        self, step: dict[str, Any], outcome: Outcome, calls: dict[str, str]
    ) -> None:
        result, made = outcome
        async with transaction():
            await fetch(
                queries.STEP_SUCCEEDED,
                step["id"],
                as_json(result),
                made,
                next(iter(calls.values()), None),
            )
            await fetch(queries.TOUCH, step["row"]["id"])
            await audit(
                SYSTEM,
                step["row"],
                Action.CORRECTION_STEP_SUCCEEDED,
                {"step": step["position"], "operation": step["operation"], **result},
                provider_request_ids=calls,
            )

    async def _record_failure(
        self, step: dict[str, Any], error: Exception, calls: dict[str, str]
    ) -> None:
        """A refusal fails the step and the correction. Unavailability past the deadline (or
        an answer never received) leaves the step `calling`: whether it happened is unknown,
        and a repeat with the same key is safe."""
        unknown = not isinstance(error, BillingError) or is_unavailable(error)
        if isinstance(error, BillingError) and not is_unavailable(error):
            code, sentence = error.code.value, error.detail
        else:
            _log.warning("correction step error", error=type(error).__name__, step=str(step["id"]))
            code = (
                ErrorCode.PROVIDER_UNAVAILABLE.value
                if is_unavailable(error)
                else ErrorCode.INTERNAL_ERROR.value
            )
            sentence = (
                f"{step['provider'].capitalize()} did not answer until the correction's "
                "deadline; whether this step happened is not known yet. Check the customer's "
                "payments and invoices before filing it again."
            )
        async with transaction():
            row = await load(step["row"]["id"], lock=True)
            await fetch(
                queries.STEP_STOPPED,
                step["id"],
                "calling" if unknown else "failed",
                code,
                sentence,
                next(iter(calls.values()), None),
            )
            await audit(
                SYSTEM,
                row,
                Action.CORRECTION_STEP_FAILED,
                {"step": step["position"], "operation": step["operation"]},
                reason=code,
                provider_request_ids=calls,
            )
            await self._finish(row, "failed", code, sentence)


def _port(adapter: Any, port: type, provider: str) -> Any:
    if not isinstance(adapter, port):
        raise BillingError(
            ErrorCode.PROVIDER_NOT_CONFIGURED,
            Message(
                "The {provider} adapter cannot do this step; it needs {port}.",
                provider=provider,
                port=port.__name__,
            ),
        )
    return adapter


async def run_operation(adapter: Any, step: dict[str, Any]) -> Outcome:
    """One step through its port, with the step's own key."""
    inputs, key, provider = step["inputs"], step["idempotency_key"], step["provider"]
    operation = step["operation"]
    if operation == "refund_payment":
        refunds = cast(Refunds, _port(adapter, Refunds, provider))
        amount = inputs["amount"]
        refund = await refunds.refund_payment(
            str(inputs["payment_id"]),
            Money(int(amount["amount_minor"]), str(amount["currency"])),
            idempotency_key=key,
        )
        return {
            "refund_id": refund.id,
            "payment_id": inputs["payment_id"],
            "amount": {
                "amount_minor": refund.amount.amount_minor,
                "currency": refund.amount.currency.upper(),
            },
            "status": refund.status,
        }, [refund.id]
    if operation == "cancel_subscription":
        subscriptions = cast(Subscriptions, _port(adapter, Subscriptions, provider))
        effective_on = date.fromisoformat(str(inputs["effective_on"]))
        await subscriptions.cancel_subscription(
            str(inputs["subscription_id"]), effective_on, idempotency_key=key
        )
        return {
            "subscription_id": inputs["subscription_id"],
            "cancelled_on": effective_on.isoformat(),
        }, []
    if operation == "void_invoice":
        voiding = cast(InvoiceVoiding, _port(adapter, InvoiceVoiding, provider))
        await voiding.void_invoice(str(inputs["invoice_id"]), idempotency_key=key)
        return {"invoice_id": inputs["invoice_id"], "status": "void"}, []
    raise BillingError(ErrorCode.INTERNAL_ERROR, f"No step knows {operation!r}.")


def _calls_of(adapter: Any, key: str) -> dict[str, str]:
    """The provider's ids for the call that settled the step (the adapters keep them by key)."""
    last_write = getattr(adapter, "last_write", None)
    found = last_write(key) if callable(last_write) else None
    if found is None:
        return {}
    ids = {
        "provider_request_id": getattr(found, "provider_request_id", None),
        "track_id": getattr(found, "track_id", None),
    }
    return {name: str(value) for name, value in ids.items() if value}
