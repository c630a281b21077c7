"""Apply: carry a change request out at the providers as durable steps.

`apply` checks everything again at the providers, then writes the run, every step, the
request's new status and the audit entry in one transaction, and hands the run to the worker
(gateway/fulfilment/runner.py does the steps). A team lead approves or refuses a plan that
waits for approval, and retries or settles by hand a step that stopped a run.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
from litestar.status_codes import HTTP_202_ACCEPTED

from audit.actions import Action
from audit.entry import Actor
from gateway.api_keys.service import ApiClient
from gateway.change_requests import fulfilment_queries as run_queries
from gateway.change_requests import queries
from gateway.change_requests.fraud_targets import read_fraud_targets
from gateway.change_requests.notification_events import (
    record_change_request_event,
    record_transition,
)
from gateway.change_requests.schemas import ChangeRequestRead
from gateway.change_requests.states import Kind, Status, Transition, next_status
from gateway.core.crypto import Cipher
from gateway.core.db.connection import fetch, transaction
from gateway.core.db.rows import as_json, loaded
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.log import get_logger
from gateway.core.sensitive import refuse_card_or_iban
from gateway.fraud.screening import blocked_refusal
from gateway.fulfilment.plan import (
    PROVIDER_OF_TARGET,
    PlannedStep,
    RequestFacts,
    build_plan,
    plan_hash,
    step_idempotency_key,
)
from gateway.fulfilment.request_rows import (
    RequestRow,
    audit,
    load_request,
    lock_request,
    move,
    not_found,
)
from gateway.fulfilment.resilience import ProviderGuard
from gateway.fulfilment.runner import RunRunner, finish_run
from gateway.fulfilment.steps import mask_id
from gateway.fulfilment.views import fulfilment_view, request_read
from gateway.fulfilment_schemas import Checks, FulfilmentRead
from gateway.i18n import Message
from gateway.idempotency.answers import AnswerSlot, earlier_answer, store_answer
from gateway.notifications.events import EventType
from gateway.providers import Providers
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import Settings

if TYPE_CHECKING:
    from gateway.fraud.service import BlocklistService

_log = get_logger("gateway.fulfilment")


class ChecksRefresher(Protocol):
    """gateway.fulfilment.checks.ChecksService, as Apply uses it."""

    async def refresh(self, request_id: uuid.UUID, moment: str) -> Checks: ...


Defer = Callable[[uuid.UUID], Awaitable[None]]


@dataclass(frozen=True)
class Applier:
    """Who applies: a staff member (the maker, `processed_by_id`) or an API key."""

    actor: Actor
    staff_id: int | None = None
    role: Role | None = None
    client: ApiClient | None = None  # an API key reaches only its own client's requests

    @classmethod
    def of_staff(cls, staff: StaffMember) -> Applier:
        return cls(staff.actor, staff.id, staff.role)

    @classmethod
    def of_api_key(cls, client: ApiClient) -> Applier:
        return cls(client.actor, client=client)


def _refuse_sensitive_text(text: str | None) -> None:
    """Reasons and comments are shown on every screen and kept in the audit trail."""
    sentence = Message(
        "The text holds bank or card details. Leave them out: the request already "
        "carries the bank details, masked."
    )
    refuse_card_or_iban(text, card=sentence, iban=sentence, iban_first=True)


def _require_lead(staff: StaffMember) -> None:
    if staff.role is not Role.TEAM_LEAD:
        raise BillingError(ErrorCode.ROLE_NOT_ALLOWED, Message("Only a team lead can do this."))


class FulfilmentService:
    def __init__(
        self,
        settings: Settings,
        providers: Providers,
        cipher: Cipher,
        checks: ChecksRefresher,
        *,
        blocklist: BlocklistService | None = None,
        guard: ProviderGuard | None = None,
        defer: Defer | None = None,
    ) -> None:
        self._settings = settings
        self._providers = providers
        self._cipher = cipher
        self._checks = checks
        self._blocklist = blocklist
        self.guard = guard or ProviderGuard(settings)
        self._defer = defer
        self._runner = RunRunner(providers, cipher, lambda: self.guard)

    # -- apply ---------------------------------------------------------------------------------

    async def apply(
        self,
        request_id: uuid.UUID,
        actor: Applier,
        preview_id: str | None = None,
        acknowledged: frozenset[str] = frozenset(),
        identity_override_reason: str | None = None,
        *,
        answer: AnswerSlot | None = None,
    ) -> ChangeRequestRead:
        """Start the request's run (202 with the request), or refuse with a problem. A plan
        that a team lead must approve first is stored as waiting, then refused with
        `approval_required`."""
        _refuse_sensitive_text(identity_override_reason)
        request = await self._visible(request_id, actor)
        if answer is not None:  # a retry of an apply that committed: its first answer
            async with transaction():
                earlier = await earlier_answer(answer, ChangeRequestRead)
            if earlier is not None:
                return earlier
        if request.status is Status.AWAITING_APPROVAL:
            raise self._approval_required(request)
        next_status(request.status, Transition.APPLY)  # refused early: nothing read or written
        for provider in self._providers_of(request):
            await self.guard.refuse_if_open(provider)
        try:
            checks = await self._checks.refresh(request_id, "apply")
            refusal = checks.refusal(
                acknowledged, identity_override_reason=identity_override_reason
            )
            if refusal is not None:
                raise refusal
            await self._refuse_if_blocked(request)
            self._refuse_changed_preview(request, checks, preview_id)
            steps = build_plan(self._facts(request), checks.targets, checks.preview)
        except BillingError as refused:
            await audit(
                actor.actor,
                request,
                Action.CHANGE_REQUEST_APPLY_REFUSED,
                {},
                {},
                refused.code.value,
            )
            raise
        before = self._needs_approval_before(request, steps)
        run_id, read = await self._start_run(
            request, actor, steps, checks, acknowledged, identity_override_reason, before, answer
        )
        if before:
            refreshed = await self._visible(request_id, actor)
            raise self._approval_required(refreshed)
        if run_id is not None:
            await self._hand_to_worker(run_id)
        return read

    async def _start_run(
        self,
        request: RequestRow,
        actor: Applier,
        steps: list[PlannedStep],
        checks: Checks,
        acknowledged: frozenset[str],
        identity_override_reason: str | None,
        approval_first: bool,
        answer: AnswerSlot | None,
    ) -> tuple[uuid.UUID | None, ChangeRequestRead]:
        """The run, its steps, the request's status and the audit entry, with the answer
        stored under the Idempotency-Key: one transaction. A retry that took over from a
        slow first attempt gets that attempt's answer (and no run of its own)."""
        run_id = uuid.uuid4()
        transition = Transition.REQUEST_APPROVAL if approval_first else Transition.APPLY
        review = random.randrange(100) < self._settings.review_sample_percent  # noqa: S311
        async with transaction():
            earlier = await earlier_answer(answer, ChangeRequestRead)
            if earlier is not None:
                return None, earlier
            locked = await lock_request(request.id)
            target = next_status(locked.status, transition)
            hashed = plan_hash(steps)
            applied_by = as_json(msgspec.structs.asdict(_ActorJson.of(actor.actor)))
            started = await fetch(
                run_queries.START_RUN,
                run_id,
                request.id,
                "waiting_approval" if approval_first else "running",
                hashed,
                checks.preview.id if checks.preview else None,
                applied_by,
                actor.staff_id,
                float(self._settings.apply_deadline_seconds),
                as_json(sorted(acknowledged)),
                identity_override_reason,
            )
            number = int(started[0]["number"])
            for step in steps:
                await fetch(
                    run_queries.ADD_STEP,
                    uuid.uuid4(),
                    run_id,
                    step.position,
                    step.target,
                    step.provider,
                    step.operation,
                    as_json(step.inputs),
                    step_idempotency_key(request.id, number, step),
                )
            await fetch(
                queries.MARK_APPLYING,
                request.id,
                target.value,
                actor.staff_id,
                applied_by,
                review,
                approval_first,
            )
            after = {
                "status": target.value,
                "run": number,
                "plan_hash": hashed,
                "steps": [f"{s.target}:{s.operation}" for s in steps],
                "acknowledged": sorted(acknowledged),
            }
            if identity_override_reason:
                after["identity_mismatch_reason"] = identity_override_reason
            await audit(
                actor.actor,
                locked,
                Action.CHANGE_REQUEST_APPLY_STARTED,
                {"status": locked.status.value},
                after,
            )
            await record_transition(request.id, transition)
            if not steps and not approval_first:  # the providers hold the change already
                await finish_run(run_id, replace(locked, status=target))
            read = await self.request_read(request.id)
            if not approval_first:
                await store_answer(answer, HTTP_202_ACCEPTED, read)
        return run_id, read

    def _approval_required(self, request: RequestRow) -> BillingError:
        return BillingError(
            ErrorCode.APPROVAL_REQUIRED,
            Message(
                "A team lead must approve this plan before it runs (a payout account change is "
                "approved first); it waits in the lead's queue and nothing was changed yet."
            ),
            extra={"current_status": request.status.value},
        )

    def _needs_approval_before(self, request: RequestRow, steps: list[PlannedStep]) -> bool:
        targets = {step.target for step in steps} or set(request.details.get("targets") or [])
        return any(
            self._settings.review_moment(request.kind.value, target) == "before"
            for target in targets
        )

    def _refuse_changed_preview(
        self, request: RequestRow, checks: Checks, preview_id: str | None
    ) -> None:
        if request.kind is not Kind.PLAN_CHANGE or checks.preview is None:
            return
        if preview_id != checks.preview.id:
            raise BillingError(
                ErrorCode.PREVIEW_CHANGED,
                Message(
                    "The price preview changed since it was shown (or none was given): check "
                    "the new amounts with the customer, then apply with this preview's id."
                ),
                extra={"preview": msgspec.to_builtins(checks.preview)},
            )

    async def _refuse_if_blocked(self, request: RequestRow) -> None:
        """A value blocked since the request was filed stops it before the first write."""
        blocklist = self._blocklist
        if blocklist is None:
            from gateway.fraud.wiring import blocklist_service

            blocklist = blocklist_service()
        targets = await read_fraud_targets(str(request.id))
        matches = (await blocklist.screen_values(targets.screen_queries())).matches
        if matches:
            # The refusal rolls back whatever it stops; the support tool hears of it anyway.
            async with transaction():
                await record_change_request_event(
                    EventType.CHANGE_REQUEST_BLOCKED_BY_FRAUD_STOP, request.id
                )
            raise blocked_refusal(matches)

    def _facts(self, request: RequestRow, signed_on: date | None = None) -> RequestFacts:
        """`signed_on`: the mandate's date, the day the plan was made (today for a new one)."""
        details = request.details
        return RequestFacts(
            id=request.id,
            kind=request.kind,
            targets=tuple(details.get("targets") or ()),
            account_holder=details.get("account_holder"),
            account_holder_email=details.get("account_holder_email"),
            bic=details.get("bic"),
            bank_name=details.get("bank_name"),
            mandate_signed_on=signed_on or datetime.now(UTC).date(),
        )

    def _providers_of(self, request: RequestRow) -> set[str]:
        if request.kind is Kind.IBAN_CHANGE:
            targets = request.details.get("targets") or []
            return {PROVIDER_OF_TARGET[t] for t in targets if t in PROVIDER_OF_TARGET}
        return set(self._providers.adapters)

    # -- the worker's part ---------------------------------------------------------------------

    async def advance(self, run_id: uuid.UUID) -> str:
        """Run the run's next steps until it is done, fails, or waits; returns its status."""
        return await self._runner.advance(run_id)

    # -- a team lead's part --------------------------------------------------------------------

    async def approve_plan(self, staff: StaffMember, request_id: uuid.UUID) -> ChangeRequestRead:
        """The waiting plan runs, once it is still the plan the maker submitted; never
        approved by whoever submitted it."""
        _require_lead(staff)
        request = await load_request(request_id)
        run = await self._live_run(request_id, "waiting_approval")
        if run["started_by_staff_id"] == staff.id:
            raise BillingError(
                ErrorCode.MAKER_CANNOT_REVIEW,
                Message("You submitted this plan, so another team lead must approve it."),
            )
        checks = await self._checks.refresh(request_id, "apply")
        refusal = checks.refusal(
            frozenset(loaded(run["acknowledged"]) or []),
            identity_override_reason=run["identity_override_reason"],
        )
        if refusal is not None:
            raise refusal
        await self._refuse_if_blocked(request)
        made_on = run["created_at"].astimezone(UTC).date()
        steps = build_plan(self._facts(request, made_on), checks.targets, checks.preview)
        if plan_hash(steps) != run["plan_hash"]:
            raise BillingError(
                ErrorCode.PREVIEW_CHANGED,
                Message(
                    "What the providers hold changed since this plan was submitted; refuse it, "
                    "and the specialist applies again with fresh checks."
                ),
                extra={"plan_hash": run["plan_hash"]},
            )
        async with transaction():
            locked = await lock_request(request_id)
            await self._run(run["id"], "waiting_approval", approved_by=staff.id)
            await move(
                locked,
                Transition.APPROVE_PLAN,
                staff.actor,
                Action.CHANGE_REQUEST_APPROVE_PLAN_SUCCEEDED,
            )
        await self._hand_to_worker(run["id"])
        return await self.request_read(request_id)

    async def refuse_plan(
        self, staff: StaffMember, request_id: uuid.UUID, comment: str
    ) -> ChangeRequestRead:
        _require_lead(staff)
        _refuse_sensitive_text(comment)
        if not comment.strip():
            raise BillingError(
                ErrorCode.VALIDATION_FAILED,
                Message("Say why the plan is refused: the maker reads it."),
            )
        run = await self._live_run(request_id, "waiting_approval")
        async with transaction():
            locked = await lock_request(request_id)
            await fetch(
                run_queries.END_RUN, run["id"], "refused", None, comment, "waiting_approval"
            )
            await fetch(queries.REFUSE_PLAN, request_id, comment, staff.id)
            await move(
                locked,
                Transition.REFUSE_PLAN,
                staff.actor,
                Action.CHANGE_REQUEST_REFUSE_PLAN_SUCCEEDED,
                reason=comment,
            )
        return await self.request_read(request_id)

    async def retry_step(self, staff: StaffMember, step_id: uuid.UUID) -> ChangeRequestRead:
        """Run a failed step again. A step refused by the provider gets a fresh key (a
        provider may replay a stored refusal under the old one); a step whose outcome is
        unknown keeps its key, so that a repeat cannot act twice."""
        _require_lead(staff)
        step, run = await self._failed_step(step_id)
        refused = step["status"] == "failed"
        key = step["idempotency_key"]
        if refused:
            key = f"{key.split(':retry')[0]}:retry{int(step['attempts'])}"
        async with transaction():
            locked = await lock_request(run["change_request_id"])
            await fetch(run_queries.RETRY_STEP, step_id, key)
            await self._run(run["id"], "failed")
            await move(
                locked,
                Transition.RETRY_APPLY,
                staff.actor,
                Action.FULFILMENT_RETRY_STEP_SUCCEEDED,
                extra={"step": step["position"], "operation": step["operation"]},
            )
        await self._hand_to_worker(run["id"])
        return await self.request_read(run["change_request_id"])

    async def settle_by_hand(
        self,
        staff: StaffMember,
        step_id: uuid.UUID,
        reason: str,
        provider_id: str | None = None,
    ) -> ChangeRequestRead:
        """The lead did the step in the provider's console: it is recorded as settled, with
        why (and, for a method or bank account created by hand, its id, which later steps
        use), and the run goes on with the next step."""
        _require_lead(staff)
        _refuse_sensitive_text(reason)
        if not reason.strip():
            raise BillingError(
                ErrorCode.VALIDATION_FAILED, Message("Say what was done by hand, and where.")
            )
        step, run = await self._failed_step(step_id)
        result = {"created_id": provider_id} if provider_id else {}
        async with transaction():
            locked = await lock_request(run["change_request_id"])
            await fetch(run_queries.SETTLE_STEP, step_id, staff.id, reason, as_json(result))
            await self._run(run["id"], "failed")
            await move(
                locked,
                Transition.SETTLE_BY_HAND,
                staff.actor,
                Action.FULFILMENT_SETTLE_STEP_BY_HAND_SUCCEEDED,
                reason=reason,
                extra={
                    "step": step["position"],
                    "operation": step["operation"],
                    "provider_id": mask_id(provider_id),
                },
            )
        await self._hand_to_worker(run["id"])
        return await self.request_read(run["change_request_id"])

    async def _run(self, run_id: uuid.UUID, status: str, approved_by: int | None = None) -> None:
        """The run in `status` runs (again), with a fresh deadline."""
        deadline = float(self._settings.apply_deadline_seconds)
        await fetch(run_queries.RUN, run_id, deadline, approved_by, status)

    async def _failed_step(self, step_id: uuid.UUID) -> tuple[dict[str, Any], dict[str, Any]]:
        rows = await fetch(run_queries.STEP_AND_RUN, step_id)
        if not rows:
            raise BillingError(
                ErrorCode.FULFILMENT_STEP_NOT_FOUND,
                Message("No fulfilment step has the id {step}.", step=step_id),
            )
        row = rows[0]
        if row["run_status"] != "failed" or row["status"] not in ("failed", "calling"):
            raise BillingError(
                ErrorCode.INVALID_TRANSITION,
                Message(
                    "Only the step that stopped a failed run can be retried or settled by hand."
                ),
                extra={"current_status": row["status"]},
            )
        return row, {
            "id": row["run_id"],
            "change_request_id": row["change_request_id"],
        }

    async def _live_run(self, request_id: uuid.UUID, status: str) -> dict[str, Any]:
        rows = await fetch(run_queries.RUNS_OF_REQUEST, request_id, status)
        if not rows:
            raise BillingError(
                ErrorCode.INVALID_TRANSITION,
                Message("This request has no plan waiting for approval."),
            )
        return rows[0]

    async def _hand_to_worker(self, run_id: uuid.UUID) -> None:
        """Defer the run's job; if that fails (the queue is down), the minute sweep finds
        the run, which is already committed."""
        if self._defer is None:
            from gateway.fulfilment.jobs import defer_run

            defer: Defer = defer_run
        else:
            defer = self._defer
        try:
            await defer(run_id)
        except Exception as error:  # the minute sweep is the fallback
            _log.warning("fulfilment run not deferred", run_id=str(run_id), error=str(error))

    # -- reads ---------------------------------------------------------------------------------

    async def view(self, request_id: uuid.UUID) -> FulfilmentRead:
        """Every run of the request with its steps (masked), oldest first."""
        return await fulfilment_view(request_id)

    async def request_read(self, request_id: uuid.UUID) -> ChangeRequestRead:
        """The request as GET shows it, with its runs."""
        return await request_read(request_id)

    # -- helpers -------------------------------------------------------------------------------

    async def _visible(self, request_id: uuid.UUID, actor: Applier) -> RequestRow:
        """The request, if this applier may apply it: an API key its own client's; a
        specialist a request in their own queue; a team lead any."""
        request = await load_request(request_id)
        client = actor.client
        if client is not None and not client.sees_all_clients and request.client != client.client:
            raise not_found(request_id)
        # Named roles only: an admin, an operations member or any role added later may not.
        if actor.role is not None and actor.role not in (Role.SPECIALIST, Role.TEAM_LEAD):
            raise BillingError(
                ErrorCode.ROLE_NOT_ALLOWED, Message("Only a specialist or a team lead can apply.")
            )
        if actor.role is Role.SPECIALIST and request.assignee_id != actor.staff_id:
            raise BillingError(
                ErrorCode.NOT_YOUR_REQUEST,
                Message("No request {request} is in your queue.", request=request_id),
            )
        return request


class _ActorJson(msgspec.Struct, kw_only=True):
    kind: str
    id: str
    role: str | None

    @classmethod
    def of(cls, actor: Actor) -> _ActorJson:
        return cls(kind=actor.kind, id=actor.id, role=actor.role)
