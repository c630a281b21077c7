"""HTTP handlers for cheques, the offline payments a script or a bank's scanner software feeds
in: record one against an invoice (or as a credit), list and read them, mark one bounced.

Scope `payments:offline`. Every POST takes an Idempotency-Key: a retry with the same key gets
the first answer and records nothing new (a cheque still `recording` is picked up where it
stopped). The batches live in batch_controller.py, the daily report in report_controller.py.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from gateway.api_keys.scopes import Scope
from gateway.cheques.schemas import BounceBody, ChequeCreate, ChequePage, ChequeRead, ChequeStatus
from gateway.cheques.service import ChequeService
from gateway.core.cursor import CursorQuery
from gateway.corrections.filing import Requester
from gateway.corrections.schemas import Provider
from gateway.edge.auth import SCOPE_OPT, client_of
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

OFFLINE = {SCOPE_OPT: Scope.PAYMENTS_OFFLINE.value}
CurrencyQuery = Annotated[
    str | None,
    QueryParameter(
        min_length=3, max_length=3, pattern=r"^[A-Z]{3}$", description="ISO 4217, capitals"
    ),
]
BusinessDate = Annotated[
    date | None,
    QueryParameter(description="The operations team's business day (YYYY-MM-DD)"),
]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="At most this many")]

RECORDING = ResponseSpec(
    data_container=ChequeRead,
    description="Entered, but the provider did not answer in time: `status` is `recording` "
    "and the gateway finishes it within minutes. Read it again with getCheque, or send the "
    "same request with the same Idempotency-Key: neither records it twice.",
    generate_examples=False,
)
RECORD_RESPONSES = {
    202: RECORDING,
    **problems(
        *MUTATING,
        404,
        503,
        codes=[
            "customer_not_found",
            "provider_not_configured",
            "cheque_exceeds_invoice",
            "currency_mismatch",
            "currency_unknown",
            "depositor_unknown",
            "iban_outside_iban_field",
            "provider_not_found",
            "provider_lacks_capability",
            "provider_rejected",
            "provider_unavailable",
        ],
    ),
    **conflicts("cheque_already_recorded", "invoice_not_open"),
}
BOUNCE_RESPONSES = {
    **problems(
        *MUTATING,
        404,
        503,
        codes=[
            "cheque_not_found",
            "provider_not_configured",
            "reason_required",
            "iban_outside_iban_field",
            "provider_rejected",
            "provider_unavailable",
        ],
    ),
    **conflicts("cheque_not_bounceable"),
}


class ChequeController(Controller):
    path = "/cheques"
    tags = ["offline payments"]
    security = SECURITY

    @post(
        "/",
        operation_id="recordCheque",
        opt=OFFLINE,
        status_code=201,
        responses=RECORD_RESPONSES,
        summary="Record a mailed cheque against an open invoice, or as a credit",
        description="The provider books it as an offline payment: Zuora as an external "
        "payment of the tenant's Check method, Stripe as a payment recorded against the "
        "invoice (or a credit to the customer's balance when `invoice_id` is left out). "
        "`account_id` is the provider's account id or number (Zuora) or customer id "
        "(Stripe); `invoice_id` the invoice's id or number, open and in `currency`, with a "
        "balance of at least `amount_minor` (minor units: 12000 EUR = 120.00 EUR). "
        "`depositor` is the operations member who takes it to the bank: their initials "
        "number it (`OP-20261205-0007`) and it joins their open batch of the day and "
        "currency. The answer's `invoice_status` is what the provider shows now (`paid` when "
        "it covered the balance). The same cheque (provider, account, `reference`) twice: 409 "
        "`cheque_already_recorded` with `cheque_id`. A card number in `reference` or `note` "
        "is refused (422) and kept nowhere.",
    )
    async def record(
        self,
        data: JSONBody[ChequeCreate],
        request: Request[Any, Any, Any],
        cheques: NamedDependency[ChequeService],
        idempotency_key: IdempotencyKey,
    ) -> Response[ChequeRead]:
        client = client_of(request.scope)
        read = await cheques.record(
            data,
            Requester.of_api_key(client),
            answer=slot_for(client.id, idempotency_of(request.scope)),
        )
        return Response(read, status_code=202 if read.status == "recording" else 201)

    @get(
        "/",
        operation_id="listCheques",
        opt=OFFLINE,
        responses=problems(*AUTHENTICATED, codes=["invalid_cursor"]),
        summary="Cheques, newest first, by business day, currency, status, batch or customer",
        description="Every filter is optional and they combine; follow `next_cursor` (with "
        "the same filters) until it is null.",
    )
    async def list_cheques(
        self,
        cheques: NamedDependency[ChequeService],
        business_date: BusinessDate = None,
        currency: CurrencyQuery = None,
        status: FromQuery[ChequeStatus | None] = None,
        batch_id: FromQuery[UUID | None] = None,
        provider: FromQuery[Provider | None] = None,
        account_id: Annotated[
            str | None,
            QueryParameter(
                max_length=100,
                pattern=r"^[A-Za-z0-9_\-]+$",
                description="The provider's own account id (Zuora) or customer id (Stripe)",
            ),
        ] = None,
        cursor: CursorQuery = None,
        limit: Limit = 50,
    ) -> ChequePage:
        return await cheques.list(
            business_date=business_date,
            currency=currency,
            status=status,
            batch_id=batch_id,
            provider=provider,
            account_id=account_id,
            cursor=cursor,
            limit=limit,
        )

    @get(
        "/{cheque_id:uuid}",
        operation_id="getCheque",
        opt=OFFLINE,
        responses=problems(*AUTHENTICATED, 404, codes=["cheque_not_found"]),
        summary="One cheque: its number, status, what the provider holds it as, and the "
        "invoice's status there",
    )
    async def read(
        self, cheque_id: FromPath[UUID], cheques: NamedDependency[ChequeService]
    ) -> ChequeRead:
        return await cheques.read(cheque_id)

    @post(
        "/{cheque_id:uuid}/bounce",
        operation_id="bounceCheque",
        opt=OFFLINE,
        status_code=200,
        responses=BOUNCE_RESPONSES,
        summary="Mark a recorded cheque bounced: the provider reverses the payment",
        description="For a cheque the bank returned. The payment is reversed at the "
        "provider, so the invoice it paid is due again (`invoice_status`: `open`; when the "
        "provider shows anything else the invoice must be re-billed by hand). The reason is "
        "kept in the audit trail and sent with the `cheque.bounced` notification. Only a "
        "`recorded` cheque can bounce (409 `cheque_not_bounceable` otherwise).",
    )
    async def bounce(
        self,
        cheque_id: FromPath[UUID],
        data: JSONBody[BounceBody],
        request: Request[Any, Any, Any],
        cheques: NamedDependency[ChequeService],
        idempotency_key: IdempotencyKey,
    ) -> ChequeRead:
        client = client_of(request.scope)
        return await cheques.bounce(
            cheque_id,
            data.reason,
            Requester.of_api_key(client),
            answer=slot_for(client.id, idempotency_of(request.scope)),
        )
