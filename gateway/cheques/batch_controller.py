"""HTTP handlers for cheque batches: the day's cheques of one currency and depositor, closed
against the scanner's total by a second person, and their deposit slip (JSON and CSV).

Scope `payments:offline`; closing takes an Idempotency-Key like every POST.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from gateway.cheques.controller import OFFLINE, BusinessDate, CurrencyQuery, Limit
from gateway.cheques.csv_responses import CSV, attachment_header, csv_response
from gateway.cheques.exports import slip_csv
from gateway.cheques.schemas import BatchClose, BatchPage, BatchRead, BatchStatus, SlipRead
from gateway.cheques.service import ChequeService
from gateway.core.cursor import CursorQuery
from gateway.corrections.filing import Requester
from gateway.edge.auth import client_of
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

NOT_FOUND = problems(*AUTHENTICATED, 404, codes=["cheque_batch_not_found"])
CLOSE_RESPONSES = {
    **problems(
        *MUTATING,
        404,
        codes=["cheque_batch_not_found", "cheque_batch_second_person"],
    ),
    **conflicts("cheque_batch_total_mismatch", "cheque_batch_busy", "cheque_batch_closed"),
}


def slip_file_name(slip: SlipRead) -> str:
    """`deposit-slip-2026-12-05-EUR-OP-1`: found again by day, currency and depositor."""
    batch = slip.batch
    day, initials = batch.business_date.isoformat(), batch.depositor_initials
    return f"deposit-slip-{day}-{batch.currency}-{initials}-{batch.sequence}"


class ChequeBatchController(Controller):
    path = "/cheque-batches"
    tags = ["offline payments"]
    security = SECURITY

    @get(
        "/",
        operation_id="listChequeBatches",
        opt=OFFLINE,
        responses=problems(*AUTHENTICATED, codes=["invalid_cursor"]),
        summary="Cheque batches, newest first: count, running total, status and last scan",
        description="One batch per business day, currency and depositor is open at a time; a "
        "closed batch takes no more cheques (the next one opens with the next `sequence`). "
        "Follow `next_cursor` (with the same filters) until it is null.",
    )
    async def list_batches(
        self,
        cheques: NamedDependency[ChequeService],
        business_date: BusinessDate = None,
        status: FromQuery[BatchStatus | None] = None,
        currency: CurrencyQuery = None,
        depositor: Annotated[
            str | None,
            QueryParameter(
                min_length=1,
                max_length=150,
                pattern=r"^[A-Za-z0-9_.@+\-]+$",
                description="The depositor's staff username",
            ),
        ] = None,
        cursor: CursorQuery = None,
        limit: Limit = 50,
    ) -> BatchPage:
        return await cheques.batches(
            business_date=business_date,
            status=status,
            currency=currency,
            depositor=depositor,
            cursor=cursor,
            limit=limit,
        )

    @get(
        "/{batch_id:uuid}",
        operation_id="getChequeBatch",
        opt=OFFLINE,
        responses=NOT_FOUND,
        summary="One batch: its count and total, status, and the last scan with its difference",
    )
    async def read(
        self, batch_id: FromPath[UUID], cheques: NamedDependency[ChequeService]
    ) -> BatchRead:
        return await cheques.batch(batch_id)

    @post(
        "/{batch_id:uuid}/close",
        operation_id="closeChequeBatch",
        opt=OFFLINE,
        status_code=200,
        responses=CLOSE_RESPONSES,
        summary="Close a batch against the scanner's total",
        description="`scanner_total_minor` is what the scanner added up (minor units of the "
        "batch's currency); the batch's total is its `recorded` cheques (bounced and failed "
        "ones are not in it). Equal: the batch closes (200) and its deposit slip is ready "
        "(getChequeBatchSlip, getChequeBatchSlipCsv). Not equal: it stays open and the answer "
        "is 409 `cheque_batch_total_mismatch` with `batch_total`, `scanner_total`, "
        "`difference` (batch minus scanner) and `cheques_since_scan` (the cheques entered "
        "after `scanned_at`, or after the previous scan); every attempt is kept. Find the "
        "cheque, then close again with a new Idempotency-Key. `closed_by` is the second "
        "person: an active operations member or team lead who is not the depositor (403 "
        "`cheque_batch_second_person`). 409 `cheque_batch_busy` while a cheque of the batch "
        "is still `recording`: retry in a minute.",
    )
    async def close(
        self,
        batch_id: FromPath[UUID],
        data: JSONBody[BatchClose],
        request: Request[Any, Any, Any],
        cheques: NamedDependency[ChequeService],
        idempotency_key: IdempotencyKey,
    ) -> BatchRead:
        client = client_of(request.scope)
        return await cheques.close_batch(
            batch_id,
            data,
            Requester.of_api_key(client),
            answer=slot_for(client.id, idempotency_of(request.scope)),
        )

    @get(
        "/{batch_id:uuid}/slip",
        operation_id="getChequeBatchSlip",
        opt=OFFLINE,
        responses=NOT_FOUND,
        summary="The batch's deposit slip: the batch and every cheque in it",
        description="What goes to the bank with the cheques. An open batch has a slip too, "
        "but it is not final until `batch.status` is `closed`.",
    )
    async def slip(
        self, batch_id: FromPath[UUID], cheques: NamedDependency[ChequeService]
    ) -> SlipRead:
        return await cheques.slip(batch_id)

    @get(
        "/{batch_id:uuid}/slip.csv",
        operation_id="getChequeBatchSlipCsv",
        opt=OFFLINE,
        media_type=CSV,
        response_headers=attachment_header(
            'attachment; filename="deposit-slip-2026-12-05-EUR-OP-1.csv"'
        ),
        responses=NOT_FOUND,
        summary="The deposit slip as a CSV file (UTF-8)",
        description="Header rows (batch, business date, currency, depositor, count, total, "
        "status, closed at and by, scanner total), one row per cheque (number, reference, "
        "provider, account, invoice, amount as a decimal and in minor units, status, entered "
        "at), then a total row. A cell that would start a spreadsheet formula starts with `'`.",
    )
    async def slip_csv(
        self, batch_id: FromPath[UUID], cheques: NamedDependency[ChequeService]
    ) -> Response[str]:
        slip = await cheques.slip(batch_id)
        return csv_response(slip_csv(slip), slip_file_name(slip))
