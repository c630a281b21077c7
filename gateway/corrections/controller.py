"""HTTP handlers for corrections: refund, cancel (with its follow-up), void, and reading them.

Every POST answers 202 with the correction: `running` (or, with `Prefer: wait=N`, its final
state when it came within N seconds, at most 15), or `awaiting_approval` when the policy wants a
second person first. What was answered is what a retry with the same Idempotency-Key gets.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import (
    FromPath,
    FromQuery,
    HeaderParameter,
    JSONBody,
    PathParameter,
    QueryParameter,
)

from gateway.api_keys.scopes import Scope
from gateway.core.cursor import CursorQuery
from gateway.corrections.schemas import (
    CancelBody,
    CancelCreate,
    CorrectionPage,
    CorrectionRead,
    Provider,
    RefundCreate,
    Status,
    VoidBody,
    VoidCreate,
)
from gateway.corrections.service import CorrectionService, Requester
from gateway.edge.auth import SCOPE_OPT, client_of
from gateway.edge.bodies import PRINTABLE
from gateway.edge.openapi import (
    AUTHENTICATED,
    MUTATING,
    SECURITY,
    IdempotencyKey,
    conflicts,
    problems,
)
from gateway.idempotency.answers import slot_for
from gateway.idempotency.context import idempotency_of

WRITE = {SCOPE_OPT: Scope.BILLING_WRITE.value}
READ = {SCOPE_OPT: Scope.BILLING_READ.value}
MAX_WAIT_SECONDS = 15
_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*(\d{1,6})(?:$|[,;\s])", re.IGNORECASE)
FILING_CONFLICTS = (
    "invoice_not_open",
    "payment_not_refundable",
    "subscription_not_active",
    "nothing_to_refund",
    "no_open_invoice",
)
Ref = Annotated[str, PathParameter(max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")]
PREFER = HeaderParameter(
    name="Prefer",
    required=False,
    max_length=200,
    description="`wait=N` (N up to 15): answer once the correction is final, or after N s.",
)


def wait_seconds(prefer: str | None) -> int:
    found = _WAIT.search(prefer or "")
    return min(int(found.group(1)), MAX_WAIT_SECONDS) if found else 0


async def _answer(
    service: CorrectionService, read: CorrectionRead, prefer: str | None
) -> Response[CorrectionRead]:
    seconds = wait_seconds(prefer)
    headers: dict[str, str] = {}
    if seconds and read.status == "running":
        read = await service.wait_for_final(read.id, seconds)
        headers["Preference-Applied"] = f"wait={seconds}"
    return Response(read, status_code=202, headers=headers)


FILED_RESPONSES = {**problems(*MUTATING, 404, 503), **conflicts(*FILING_CONFLICTS)}


class CorrectionController(Controller):
    tags = ["corrections"]
    security = SECURITY

    @post(
        "/refunds",
        operation_id="createRefund",
        opt=WRITE,
        status_code=202,
        responses=FILED_RESPONSES,
        summary="Refund a payment, in full or in part",
        description="All that is left of the payment, or `amount_minor` of it (minor units of "
        "the payment's currency). 422 `refund_exceeds_payment` names what is left "
        "(`refundable`). Above the approval threshold it waits for a team lead "
        "(`awaiting_approval`).",
    )
    async def refund(
        self,
        data: JSONBody[RefundCreate],
        request: Request[Any, Any, Any],
        corrections: NamedDependency[CorrectionService],
        idempotency_key: IdempotencyKey,
        prefer: Annotated[str | None, PREFER] = None,
    ) -> Response[CorrectionRead]:
        return await self._file(data, request, corrections, prefer)

    @post(
        "/subscriptions/{provider:str}/{reference:str}/cancel",
        operation_id="cancelSubscription",
        opt=WRITE,
        status_code=202,
        responses=FILED_RESPONSES,
        summary="Cancel a subscription, and refund or void what follows",
        description="`when`: now, end_of_term or on_date (with `on`); `then`: nothing, "
        "refund_last_payment, void_open_invoice or refund_remaining (a prepaid package: the "
        "unused value minus the cancellation fee, shown under `computation`). `customer` is "
        "the subscription's customer (account number, provider id or back-office id).",
    )
    async def cancel(
        self,
        provider: FromPath[Provider],
        reference: Ref,
        data: JSONBody[CancelBody],
        request: Request[Any, Any, Any],
        corrections: NamedDependency[CorrectionService],
        idempotency_key: IdempotencyKey,
        prefer: Annotated[str | None, PREFER] = None,
    ) -> Response[CorrectionRead]:
        order = CancelCreate(
            provider=provider,
            subscription_id=reference,
            reason=data.reason,
            when=data.when,
            on=data.on,
            then=data.then,
            ticket=data.ticket,
            customer=data.customer,
            requested_by=data.requested_by,
        )
        return await self._file(order, request, corrections, prefer)

    @post(
        "/invoices/{provider:str}/{reference:str}/void",
        operation_id="voidInvoice",
        opt=WRITE,
        status_code=202,
        responses=FILED_RESPONSES,
        summary="Void an open invoice",
        description="Open invoices only (409 `invoice_not_open` otherwise: refund a paid one).",
    )
    async def void(
        self,
        provider: FromPath[Provider],
        reference: Ref,
        data: JSONBody[VoidBody],
        request: Request[Any, Any, Any],
        corrections: NamedDependency[CorrectionService],
        idempotency_key: IdempotencyKey,
        prefer: Annotated[str | None, PREFER] = None,
    ) -> Response[CorrectionRead]:
        order = VoidCreate(
            provider=provider,
            invoice_id=reference,
            reason=data.reason,
            ticket=data.ticket,
            requested_by=data.requested_by,
        )
        return await self._file(order, request, corrections, prefer)

    async def _file(
        self,
        order: RefundCreate | CancelCreate | VoidCreate,
        request: Request[Any, Any, Any],
        corrections: CorrectionService,
        prefer: str | None,
    ) -> Response[CorrectionRead]:
        client = client_of(request.scope)
        read = await corrections.file(
            order,
            Requester.of_api_key(client),
            answer=slot_for(client.id, idempotency_of(request.scope)),
        )
        return await _answer(corrections, read, prefer)

    @get(
        "/corrections",
        operation_id="listCorrections",
        opt=READ,
        responses=problems(*AUTHENTICATED),
        summary="Corrections, newest first (an API key sees its own client's)",
    )
    async def list_corrections(
        self,
        request: Request[Any, Any, Any],
        corrections: NamedDependency[CorrectionService],
        status: FromQuery[Status | None] = None,
        provider: FromQuery[Provider | None] = None,
        account_id: Annotated[
            str | None, QueryParameter(max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")
        ] = None,
        ticket: Annotated[
            str | None,
            QueryParameter(
                max_length=300,
                pattern=PRINTABLE,
                description='the ticket in any spelling ("zendesk:77", "zendesk #77"), or its '
                "id alone (any system)",
            ),
        ] = None,
        cursor: CursorQuery = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> CorrectionPage:
        return await corrections.list(
            status=status,
            provider=provider,
            account_id=account_id,
            ticket=ticket,
            client=client_of(request.scope),
            cursor=cursor,
            limit=limit,
        )

    @get(
        "/corrections/{correction_id:uuid}",
        operation_id="getCorrection",
        opt=READ,
        responses=problems(*AUTHENTICATED, 404, codes=["correction_not_found"]),
        summary="One correction: its payload, approval, steps and final state",
    )
    async def read(
        self,
        correction_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        corrections: NamedDependency[CorrectionService],
    ) -> CorrectionRead:
        return await corrections.read(correction_id, client_of(request.scope))
