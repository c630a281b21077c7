"""Corrections: file, approve, refuse, read and list.

Filing reads the provider fresh, plans the steps (gateway/corrections/plan.py), decides by the
policy whether a second person approves first, and writes the correction, its steps, the audit
entry and the answer under the Idempotency-Key in one transaction; a correction that runs at
once is then handed to the worker (gateway/corrections/runner.py). Every refusal is audited,
nothing else is stored for it. The approval is bound to the payload's hash: the approver sends
the hash shown, and the stored payload must still hash to it. Requester and approver are never
the same person, admins included (the database refuses it too).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import msgspec

from audit.actions import Action
from gateway.api_keys.service import ApiClient
from gateway.core.db.connection import fetch_value, transaction
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.log import get_logger
from gateway.corrections import queries
from gateway.corrections.decisions import (
    approve_correction,
    refuse_correction,
    retry_correction,
    settle_step_by_hand,
)
from gateway.corrections.facts import read_facts
from gateway.corrections.filing import (
    Requester,
    kind_of,
    object_of,
    order_json,
    refuse_other_roles,
    refuse_sensitive_text,
    store_correction,
)
from gateway.corrections.listing import list_corrections
from gateway.corrections.plan import (
    FeePolicy,
    Order,
    build_plan,
)
from gateway.corrections.policy import ApprovalPolicy
from gateway.corrections.records import (
    FINAL,
    audit,
    correction_read,
    not_found,
)
from gateway.corrections.runner import CorrectionRunner
from gateway.corrections.schemas import CorrectionPage, CorrectionRead
from gateway.fulfilment.resilience import ProviderGuard
from gateway.i18n import Message
from gateway.idempotency.answers import AnswerSlot, earlier_answer
from gateway.providers import Providers
from gateway.staff.member import StaffMember
from gateway.tickets import canonical_ticket_or_none, ticket_lookup
from settings import Settings

__all__ = ["CorrectionService", "Requester"]
_log = get_logger("gateway.corrections")
UNAVAILABLE_RETRY_SECONDS = 30  # a provider that could not be read at filing
Defer = Callable[[uuid.UUID], Awaitable[None]]


class CorrectionService:
    def __init__(
        self,
        settings: Settings,
        providers: Providers,
        *,
        guard: ProviderGuard | None = None,
        defer: Defer | None = None,
    ) -> None:
        self._settings = settings
        self._providers = providers
        self.guard = guard or ProviderGuard(settings)
        self._defer = defer
        self._runner = CorrectionRunner(providers, lambda: self.guard)

    @property
    def policy(self) -> ApprovalPolicy:
        s = self._settings
        return ApprovalPolicy(s.correction_approval_refund_above, s.correction_approval_always)

    @property
    def fees(self) -> FeePolicy:
        s = self._settings
        return FeePolicy(s.cancellation_fee_percent, s.cancellation_fee_applies_to)

    # -- filing --------------------------------------------------------------------------------

    async def file(
        self, order: Order, requester: Requester, *, answer: AnswerSlot | None = None
    ) -> CorrectionRead:
        """202 with the correction (`running`, or `awaiting_approval`), or a problem."""
        if answer is not None:  # a retry of a filing that committed: its first answer
            async with transaction():
                earlier = await earlier_answer(answer, CorrectionRead)
            if earlier is not None:
                return earlier
        on_behalf_of = order.requested_by or requester.on_behalf_of
        target = f"{order.provider}:{object_of(order)}"
        try:
            refuse_other_roles(requester)
            refuse_sensitive_text(order.reason, order.ticket)
            # One ticket format: "zendesk #77" is stored, matched and answered as zendesk:77.
            order = msgspec.structs.replace(order, ticket=canonical_ticket_or_none(order.ticket))
            if not order.reason.strip():
                raise BillingError(
                    ErrorCode.REASON_REQUIRED,
                    Message(
                        "Say why: the reason is shown to the approver and kept in the audit trail."
                    ),
                )
            adapter = self._providers.get(order.provider)
            if adapter is None:
                raise BillingError(
                    ErrorCode.PROVIDER_NOT_CONFIGURED,
                    Message("The gateway has no {provider} configured.", provider=order.provider),
                    extra={"provider": order.provider},
                )
            await self.guard.refuse_if_open(order.provider)
            facts = await read_facts(adapter, order, self.guard)
            plan = build_plan(order, facts, self.fees)
            correction_id, read = await store_correction(
                self._settings, self.policy, order, requester, plan, on_behalf_of, answer
            )
        except BillingError as refused:
            filed = order_json(order)
            if refused.code in (
                ErrorCode.IBAN_OUTSIDE_IBAN_FIELD,
                ErrorCode.CARD_NUMBER_NOT_ACCEPTED,
            ):
                filed.pop("ticket", None)
            row = {"id": target, "account_id": None}
            await audit(
                requester.actor,
                row,
                Action.named("correction", f"file_{kind_of(order)}", "refused"),
                {"order": filed},
                reason=refused.code.value,
            )
            if refused.code is ErrorCode.PROVIDER_UNAVAILABLE:
                refused.headers.setdefault("Retry-After", str(UNAVAILABLE_RETRY_SECONDS))
            raise
        if read.status == "running":
            await self._hand_to_worker(correction_id)
        return read

    # -- a second person's part ----------------------------------------------------------------

    async def approve(
        self, correction_id: uuid.UUID, staff: StaffMember, payload_hash: str
    ) -> CorrectionRead:
        """The correction runs as approved: the payload the approver saw (by its hash), by
        someone other than whoever filed it."""
        await approve_correction(
            correction_id, staff, payload_hash, self._settings.apply_deadline_seconds
        )
        await self._hand_to_worker(correction_id)
        return await correction_read(correction_id)

    async def refuse(
        self, correction_id: uuid.UUID, staff: StaffMember, reason: str
    ) -> CorrectionRead:
        await refuse_correction(correction_id, staff, reason)
        return await correction_read(correction_id)

    async def retry(self, correction_id: uuid.UUID, staff: StaffMember) -> CorrectionRead:
        """A team lead runs a failed correction again from the step that stopped it."""
        await retry_correction(correction_id, staff, self._settings.apply_deadline_seconds)
        await self._hand_to_worker(correction_id)
        return await correction_read(correction_id)

    async def settle_by_hand(
        self,
        correction_id: uuid.UUID,
        staff: StaffMember,
        reason: str,
        provider_reference: str | None = None,
    ) -> CorrectionRead:
        """A team lead records that the stopped step was done at the provider by hand; the
        correction goes on from the next step."""
        await settle_step_by_hand(correction_id, staff, reason, provider_reference)
        await self._hand_to_worker(correction_id)
        return await correction_read(correction_id)

    # -- the worker's part ---------------------------------------------------------------------

    async def advance(self, correction_id: uuid.UUID) -> str:
        return await self._runner.advance(correction_id)

    async def _hand_to_worker(self, correction_id: uuid.UUID) -> None:
        """Defer its job; if that fails (the queue is down), the minute sweep finds it."""
        if self._defer is None:
            from gateway.corrections.jobs import defer_correction

            defer: Defer = defer_correction
        else:
            defer = self._defer
        try:
            await defer(correction_id)
        except Exception as error:  # the sweep is the fallback
            _log.warning(
                "correction not deferred", correction_id=str(correction_id), error=str(error)
            )

    # -- reads ---------------------------------------------------------------------------------

    async def read(
        self, correction_id: uuid.UUID, client: ApiClient | None = None
    ) -> CorrectionRead:
        """An API key sees its own client's corrections only; staff (None) see all."""
        if (
            client is not None
            and not client.sees_all_clients
            and await fetch_value(queries.CLIENT, correction_id) != client.client
        ):
            raise not_found(correction_id)
        return await correction_read(correction_id)

    async def wait_for_final(
        self, correction_id: uuid.UUID, seconds: float, client: ApiClient | None = None
    ) -> CorrectionRead:
        """`Prefer: wait=N`: the correction once final (or waiting for approval), or as it
        is when `seconds` have passed."""
        deadline = time.monotonic() + seconds
        while True:
            read = await self.read(correction_id, client)
            if read.status in FINAL or read.status == "awaiting_approval":
                return read
            if time.monotonic() >= deadline:
                return read
            await asyncio.sleep(0.1)

    async def list(
        self,
        *,
        status: str | None = None,
        provider: str | None = None,
        account_id: str | None = None,
        ticket: str | None = None,
        client: ApiClient | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> CorrectionPage:
        only = client.client if client is not None and not client.sees_all_clients else None
        return await list_corrections(
            status=status,
            provider=provider,
            account_id=account_id,
            ticket=ticket_lookup(ticket) if ticket is not None else None,
            client=only,
            cursor=cursor,
            limit=limit,
        )
