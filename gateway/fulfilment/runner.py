"""The worker's part of Apply: a run's steps, one after the other for each target, the targets
side by side (a Zuora account and a Stripe customer do not wait for each other; a target's
steps keep their order: the new method exists before it becomes the default, which comes
before the old one closes). Each step is marked `calling` (committed) before its provider
call, called outside any transaction with its own idempotency key, and recorded with its audit
entry in one transaction: a crash anywhere resumes at the steps it stopped at; a call whose
answer was lost is repeated with the same key (the adapters settle it at the provider), never
reported as a failure. Only a provider's refusal fails a step; unavailability past the run's
deadline stops the run with the step's outcome still unknown (`calling`), for a team lead to
retry with the same key.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from audit import AuditEntry, append
from audit.actions import Action
from audit.entry import SYSTEM
from gateway.change_requests import fulfilment_queries as run_queries
from gateway.change_requests.service import IBAN_CONTEXT
from gateway.change_requests.states import Status, Transition
from gateway.core.crypto import Cipher
from gateway.core.db.connection import fetch, transaction
from gateway.core.db.rows import as_json, loaded
from gateway.core.errors import BillingError, ErrorCode, is_unavailable
from gateway.core.log import get_logger
from gateway.fulfilment.request_rows import (
    RequestRow,
    load_request,
    lock_request,
    move,
)
from gateway.fulfilment.resilience import ProviderGuard
from gateway.fulfilment.steps import StepCall, StepOutcome, run_step
from gateway.metrics.provider_steps import observed_step
from gateway.providers import Providers

_log = get_logger("gateway.fulfilment")


class RunRunner:
    def __init__(
        self, providers: Providers, cipher: Cipher, guard: Callable[[], ProviderGuard]
    ) -> None:
        self._providers = providers
        self._cipher = cipher
        self._guard = guard

    async def advance(self, run_id: uuid.UUID) -> str:
        """Run the run's next steps until it is done, fails, or waits; returns its status.
        Each target's steps in order, the targets at once; a step failing stops every
        target's next step (the calls under way finish and are recorded)."""
        steps = await fetch(run_queries.STEPS_OF_RUN, run_id)
        targets = dict.fromkeys(step["target"] for step in steps)  # in the steps' order
        await asyncio.gather(*(self._advance_target(run_id, target) for target in targets))
        ended = await self._claim_next_step(run_id, None)
        if isinstance(ended, str):
            return ended
        return "running"  # unreachable in practice: every target ran out of steps

    async def _advance_target(self, run_id: uuid.UUID, target: str) -> None:
        while True:
            claimed = await self._claim_next_step(run_id, target)
            if isinstance(claimed, str):
                return
            await self._call_step(claimed)

    async def _claim_next_step(self, run_id: uuid.UUID, target: str | None) -> dict[str, Any] | str:
        """The next step of `target` (of any target: None), marked `calling`; or why there
        is none: the run's status, or "target_done". The run's row lock orders the claims of
        the targets advancing side by side."""
        async with transaction():
            runs = await fetch(run_queries.LOCK_RUN, run_id)
            if not runs:
                return "missing"
            run = runs[0]
            if run["status"] != "running":
                return str(run["status"])
            steps = await fetch(run_queries.STEPS_OF_RUN, run_id)
            refused = next((s for s in steps if s["status"] == "failed"), None)
            if refused is not None:  # a lead retried or settled another step: stop again
                await self._stop_run(run, refused)
                return "failed"
            following = next(
                (
                    s
                    for s in steps
                    if s["status"] not in ("succeeded", "settled_by_hand")
                    and target in (None, s["target"])
                ),
                None,
            )
            if following is None and target is not None:
                return "target_done"
            if following is None:
                request = await lock_request(run["change_request_id"])
                await finish_run(run_id, request)
                return "succeeded"
            await fetch(run_queries.CALL_STEP, following["id"])
            await fetch(run_queries.TOUCH_RUN, run_id)
            earlier = {
                s["position"]: loaded(s["result"]) or {}
                for s in steps
                if s["status"] in ("succeeded", "settled_by_hand")
            }
            return {
                **following,
                "inputs": loaded(following["inputs"]),
                "earlier": earlier,
                "run_id": run_id,
                "run_number": run["number"],
                "deadline_at": run["deadline_at"],
                "request_id": run["change_request_id"],
            }

    async def _stop_run(self, run: dict[str, Any], step: dict[str, Any]) -> None:
        """The run goes back to `failed` on a step still refused (its error stays on it)."""
        code, sentence = step["error_code"], step["error_message"]
        await fetch(run_queries.END_RUN, run["id"], "failed", code, sentence, "running")
        request = await lock_request(run["change_request_id"])
        if request.status is Status.APPLYING:
            await move(
                request,
                Transition.APPLY_FAILED,
                SYSTEM,
                Action.CHANGE_REQUEST_APPLY_FAILED,
                reason=code,
                extra={"step": step["position"], "error_message": sentence},
            )

    async def _call_step(self, step: dict[str, Any]) -> None:
        request = await load_request(step["request_id"])
        adapter = self._providers.get(step["provider"])
        call = StepCall(
            request_id=str(request.id),
            target=step["target"],
            provider=step["provider"],
            operation=step["operation"],
            inputs=step["inputs"],
            idempotency_key=step["idempotency_key"],
            earlier_results=step["earlier"],
            # `attempts` is the count read before CALL_STEP added this call (committed before
            # the provider is called), so a crash mid-call leaves >= 1 for the next run. An
            # earlier run of the request (reworked, run again) shares its mandate reference.
            resumed=int(step["attempts"]) > 0 or int(step["run_number"]) > 1,
        )

        def iban() -> str:
            if not request.iban_ciphertext:
                raise BillingError(ErrorCode.INTERNAL_ERROR, "The request holds no IBAN.")
            return self._cipher.decrypt(request.iban_ciphertext, context=IBAN_CONTEXT)

        async def once() -> StepOutcome:
            if adapter is None:
                raise BillingError(
                    ErrorCode.PROVIDER_NOT_CONFIGURED,
                    f"The gateway has no {step['provider']} configured; this step cannot run.",
                )
            return await run_step(adapter, call, iban)

        try:
            with observed_step("fulfilment", step["provider"], step["operation"]):
                outcome = await self._guard().call(
                    step["provider"], once, deadline=step["deadline_at"]
                )
        except Exception as error:  # recorded below; never lost
            await self._record_failure(step, request, error, _calls_of(adapter, call))
            return
        await self._record_success(step, request, outcome, _calls_of(adapter, call))

    async def _record_success(
        self,
        step: dict[str, Any],
        request: RequestRow,
        outcome: StepOutcome,
        calls: dict[str, str],
    ) -> None:
        request_id = next(iter(calls.values()), None)
        async with transaction():
            await fetch(
                run_queries.STEP_SUCCEEDED,
                step["id"],
                as_json(outcome.result),
                as_json(outcome.before),
                as_json(outcome.after),
                request_id,
            )
            await fetch(run_queries.TOUCH_RUN, step["run_id"])
            await self._audit_step(step, request, Action.FULFILMENT_STEP_SUCCEEDED, outcome, calls)

    async def _record_failure(
        self, step: dict[str, Any], request: RequestRow, error: Exception, calls: dict[str, str]
    ) -> None:
        """A refusal fails the step and the run. Unavailability past the deadline (or an
        answer never received) leaves the step `calling`: its outcome is unknown, and a
        retry repeats it with the same key; the run stops, visibly, as failed."""
        # Only a provider's answer is known to have changed nothing; anything else may have
        # happened after the call went out.
        unknown = not isinstance(error, BillingError) or is_unavailable(error)
        if isinstance(error, BillingError):
            code, sentence = error.code.value, error.detail
        else:
            _log.warning("fulfilment step error", error=type(error).__name__, step=step["id"])
            code = ErrorCode.INTERNAL_ERROR.value
            sentence = (
                "The step stopped on an unexpected error; whether it happened at the provider "
                "is not known yet. A team lead's retry repeats it safely with the same key."
            )
        if is_unavailable(error):
            sentence = (
                f"{step['provider'].capitalize()} stayed unavailable until the run's deadline; "
                "whether this step happened is not known yet. A team lead's retry repeats it "
                "safely with the same key."
            )
        provider_request = (
            error.extra.get("provider_request_id") if isinstance(error, BillingError) else None
        ) or next(iter(calls.values()), None)
        async with transaction():
            await fetch(
                run_queries.STEP_FAILED,
                step["id"],
                "calling" if unknown else "failed",
                code,
                sentence,
                provider_request,
            )
            locked = await lock_request(request.id)
            # Another target's step may have stopped the run already, as it ran beside.
            stopped_already = locked.status is not Status.APPLYING
            await fetch(run_queries.END_RUN, step["run_id"], "failed", code, sentence, "running")
            await self._audit_step(
                step, request, Action.FULFILMENT_STEP_FAILED, None, calls, reason=code
            )
            if not stopped_already:
                await move(
                    locked,
                    Transition.APPLY_FAILED,
                    SYSTEM,
                    Action.CHANGE_REQUEST_APPLY_FAILED,
                    reason=code,
                    extra={"step": step["position"], "error_message": sentence},
                )

    async def _audit_step(
        self,
        step: dict[str, Any],
        request: RequestRow,
        action: Action,
        outcome: StepOutcome | None,
        calls: dict[str, str],
        reason: str | None = None,
    ) -> None:
        await append(
            AuditEntry(
                action=action,
                actor=SYSTEM,
                about={"id": request.id, **request.customer},
                reason=reason,
                before=(outcome.before if outcome else {})
                | {"step": step["position"], "target": step["target"]},
                after=(outcome.after if outcome else {})
                | {"operation": step["operation"], "provider": step["provider"]},
                provider_request_ids=calls,
            )
        )


async def finish_run(run_id: uuid.UUID, request: RequestRow) -> None:
    """Every step reached its provider (or was settled by hand): the request is applied."""
    await fetch(run_queries.END_RUN, run_id, "succeeded", None, None, "running")
    await move(request, Transition.APPLY_SUCCEEDED, SYSTEM, Action.CHANGE_REQUEST_APPLY_SUCCEEDED)


def _calls_of(adapter: Any, call: StepCall) -> dict[str, str]:
    """The provider's ids for the call that settled the step (the adapters keep them by the
    step's idempotency key): Stripe's request id, Zuora's request id and track id."""
    last_write = getattr(adapter, "last_write", None)
    found = last_write(call.idempotency_key) if callable(last_write) else None
    if found is None:
        return {}
    ids = {f"{call.provider}_request_id": getattr(found, "provider_request_id", None)}
    ids[f"{call.provider}_track_id"] = getattr(found, "track_id", None)
    return {name: str(value) for name, value in ids.items() if value}
