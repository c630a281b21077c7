"""Offline payments: record a mailed cheque at Zuora or Stripe, group cheques in daily batches
per currency and depositor, close a batch against the scanner's total (by a second person),
bounce a cheque, and report per day and currency.

Recording checks everything first (no card number anywhere, the depositor, the account and the
invoice read fresh from the provider), then stores the cheque `recording` in its batch with its
number, then writes it at the provider under the payment number (a repeat finds the first),
then stores `recorded` with its audit entry, its notification and the answer under the
Idempotency-Key: a process dying in between leaves a `recording` row that a retry of the same
request, or the minute sweep, finishes. A bounce works the same way through `bouncing`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import asyncpg
from litestar.status_codes import HTTP_200_OK

from adapters.ports import Account, Invoice
from audit.actions import Action
from gateway.cheques import queries, writing
from gateway.cheques.batches import (
    cheques_since,
    closer_of,
    open_batch,
    refuse_depositor,
    store_scan,
)
from gateway.cheques.checks import (
    StaffRow,
    depositor_named,
    find_account,
    find_invoice,
    offline_adapter,
    refuse_card_numbers,
    refuse_credit_currency,
    refuse_unknown_currency,
    refuse_unpayable,
    staff_by,
)
from gateway.cheques.listing import list_batches, list_cheques
from gateway.cheques.numbers import (
    business_date_in,
    cheque_number,
    initials,
    payment_number,
)
from gateway.cheques.records import (
    actor_json,
    audit,
    batch_name,
    batch_not_found,
    cheque_read,
    load_cheque,
    read_batch,
    read_cheque,
)
from gateway.cheques.reports import daily_report
from gateway.cheques.schemas import (
    BatchClose,
    BatchPage,
    BatchRead,
    BatchStatus,
    ChequeCreate,
    ChequePage,
    ChequeRead,
    ChequeStatus,
    Report,
    SlipRead,
)
from gateway.core.db.connection import fetch, transaction
from gateway.core.db.rows import as_json
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.log import get_logger
from gateway.corrections.filing import Requester, refuse_sensitive_text
from gateway.fulfilment.resilience import ProviderGuard
from gateway.i18n import N_, Message
from gateway.i18n.values import AmountText
from gateway.idempotency.answers import AnswerSlot, earlier_answer, store_answer
from gateway.providers import Providers
from gateway.staff.roles import Role
from settings import Settings

__all__ = ["ChequeService", "Requester"]
_log = get_logger("gateway.cheques")
Defer = Callable[[uuid.UUID], Awaitable[None]]
SWEEP_BATCH = 100
# Refusals whose text must not reach the audit trail: what was typed is left out.
_SENSITIVE = (ErrorCode.CARD_NUMBER_NOT_ACCEPTED, ErrorCode.IBAN_OUTSIDE_IBAN_FIELD)


class ChequeService:
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

    def business_date_now(self) -> date:
        """Today in the operations team's time zone (BG_OPERATIONS_TIME_ZONE)."""
        return business_date_in(self._settings.operations_time_zone)

    # -- recording -----------------------------------------------------------------------------

    async def record(
        self, order: ChequeCreate, by: Requester, *, answer: AnswerSlot | None = None
    ) -> ChequeRead:
        """The cheque `recorded` (201), `recording` while the provider cannot be reached (202),
        or a problem."""
        if answer is not None:  # a retry: its first answer, or the row it left behind
            async with transaction():
                earlier = await earlier_answer(answer, ChequeRead)
            if earlier is not None:
                return earlier
            resumed = await self._resume(answer)
            if resumed is not None:
                return resumed
        try:
            refuse_card_numbers(order.reference, order.note)
            currency = order.currency.upper()
            refuse_unknown_currency(currency)
            depositor = await self._depositor(order, by)
            adapter = offline_adapter(self._providers, order.provider)
            # Before the provider is read: a cheque entered again has paid its invoice, which
            # the read would answer as "not open" instead of naming the first entry.
            await self._refuse_same_cheque(order.provider, order.account_id, order.reference)
            await self.guard.refuse_if_open(order.provider)
            account, invoice = await self._read_provider(adapter, order, currency)
            cheque_id = await self._store(order, by, depositor, account, invoice, answer)
        except BillingError as refused:
            await self._audit_refused(order, by, refused)
            raise
        read = await writing.record_at_provider(self._providers, self.guard, cheque_id, answer)
        if read.status == "recording":
            await self._hand_to_worker(cheque_id)
        return read

    async def _resume(self, answer: AnswerSlot) -> ChequeRead | None:
        """The cheque an earlier attempt with this Idempotency-Key stored, carried on."""
        row = await queries.cheque_of_request(answer.api_key_id, answer.key)
        if row is None:
            return None
        if row["status"] == "failed":
            raise BillingError(
                ErrorCode.PROVIDER_REJECTED,
                row["failure"] or Message("The provider refused this cheque."),
                extra={"cheque_id": str(row["id"])},
            )
        if row["status"] == "recording":
            read = await writing.record_at_provider(self._providers, self.guard, row["id"], answer)
            if read.status == "recording":
                await self._hand_to_worker(row["id"])
            return read
        return await read_cheque(row["id"])

    async def _depositor(self, order: ChequeCreate, by: Requester) -> StaffRow:
        """The signed-in operations member in the back office; `depositor` through the API."""
        if by.staff_id is None:
            return await depositor_named(order.depositor)
        if by.role is not Role.OPERATIONS:
            raise BillingError(
                ErrorCode.ROLE_NOT_ALLOWED,
                Message(
                    "Only operations members enter cheques: the cheque is numbered with the "
                    "initials of the member who deposits it."
                ),
            )
        found = await staff_by(staff_id=by.staff_id)
        if found is None or not found.active:
            raise BillingError(
                ErrorCode.ROLE_NOT_ALLOWED, Message("Your staff account is not active any more.")
            )
        return found

    async def _read_provider(
        self, adapter: Any, order: ChequeCreate, currency: str
    ) -> tuple[Account, Invoice | None]:
        provider = order.provider

        async def read(call: Callable[[], Awaitable[Any]]) -> Any:
            return await self.guard.call_once(provider, call)

        account: Account = await read(lambda: find_account(adapter, provider, order.account_id))
        if account.id != order.account_id:
            # Named by its number, the customer is known by its id only now: the same cheque
            # entered again is named before its paid invoice answers "not open".
            await self._refuse_same_cheque(provider, account.id, order.reference)
        if order.invoice_id is None:
            refuse_credit_currency(account, currency)
            return account, None
        invoice = await find_invoice(adapter, account, order.invoice_id, read)
        refuse_unpayable(invoice, order.amount_minor, currency)
        return account, invoice

    async def _store(
        self,
        order: ChequeCreate,
        by: Requester,
        depositor: StaffRow,
        account: Account,
        invoice: Invoice | None,
        answer: AnswerSlot | None,
    ) -> uuid.UUID:
        """The cheque `recording`, numbered, in its batch: one transaction."""
        try:
            async with transaction():
                earlier = await earlier_answer(answer, ChequeRead)
                if earlier is not None:
                    return earlier.id
                await self._refuse_same_cheque(order.provider, account.id, order.reference)
                return await self._insert(order, by, depositor, account, invoice, answer)
        except asyncpg.UniqueViolationError as clash:  # a racing request got there first
            if clash.constraint_name == "cheques_of_request" and answer is not None:
                raced = await queries.cheque_of_request(answer.api_key_id, answer.key)
                if raced is not None:
                    return uuid.UUID(str(raced["id"]))
            if clash.constraint_name == "cheques_same_cheque":
                await self._refuse_same_cheque(order.provider, account.id, order.reference)
            raise

    async def _refuse_same_cheque(self, provider: str, account_id: str, reference: str) -> None:
        same = await queries.same_cheque(provider, account_id, reference)
        if same is not None:
            raise BillingError(
                ErrorCode.CHEQUE_ALREADY_RECORDED,
                Message(
                    "Cheque {reference} of this customer is already recorded as {number}: the "
                    "same cheque is entered once.",
                    reference=reference,
                    number=same["number"],
                ),
                extra={"cheque_id": str(same["id"])},
            )

    async def _insert(
        self,
        order: ChequeCreate,
        by: Requester,
        depositor: StaffRow,
        account: Account,
        invoice: Invoice | None,
        answer: AnswerSlot | None,
    ) -> uuid.UUID:
        business_date = self.business_date_now()
        currency = order.currency.upper()
        mark = initials(depositor.username, depositor.first_name, depositor.last_name)
        sequence = await queries.next_number(mark, business_date)
        number = cheque_number(mark, business_date, sequence)
        batch_id = await open_batch(business_date, currency, depositor, mark)
        cheque_id = uuid.uuid4()
        await fetch(
            queries.INSERT_CHEQUE,
            cheque_id,
            number,
            payment_number(number),
            order.reference,
            order.provider,
            account.id,
            account.name,
            invoice.id if invoice else None,
            invoice.number if invoice else None,
            order.amount_minor,
            currency,
            business_date,
            batch_id,
            depositor.id,
            order.note,
            as_json(actor_json(by.actor)),
            by.client.client if by.client else None,
            answer.api_key_id if answer else None,
            answer.key if answer else None,
            account.number or None,
        )
        return cheque_id

    async def _audit_refused(
        self, order: ChequeCreate, by: Requester, refused: BillingError
    ) -> None:
        filed: dict[str, Any] = {
            "provider": order.provider,
            "account_id": order.account_id,
            "invoice_id": order.invoice_id,
            "amount": {"amount_minor": order.amount_minor, "currency": order.currency.upper()},
            "depositor": order.depositor,
        }
        if refused.code not in _SENSITIVE:
            filed["reference"] = order.reference
        await audit(
            by.actor,
            {"account_id": order.account_id},
            f"{order.provider}:{order.account_id}",
            Action.CHEQUE_RECORD_REFUSED,
            {
                "order": filed,
                "error": str(refused.detail) if refused.code not in _SENSITIVE else None,
            },
            reason=refused.code.value,
        )

    # -- bouncing ------------------------------------------------------------------------------

    async def bounce(
        self, cheque_id: uuid.UUID, reason: str, by: Requester, *, answer: AnswerSlot | None = None
    ) -> ChequeRead:
        """The bank returned it: reversed at the provider (its invoice due again)."""
        if answer is not None:
            async with transaction():
                earlier = await earlier_answer(answer, ChequeRead)
            if earlier is not None:
                return earlier
        row = await load_cheque(cheque_id)
        try:
            if by.staff_id is not None and by.role not in (Role.OPERATIONS, Role.TEAM_LEAD):
                raise BillingError(
                    ErrorCode.ROLE_NOT_ALLOWED,
                    Message("Only operations members and team leads mark a cheque bounced."),
                )
            refuse_sensitive_text(reason)
            if not reason.strip():
                raise BillingError(
                    ErrorCode.REASON_REQUIRED,
                    Message(
                        "Say why the bank returned the cheque: it is kept with the cheque and in "
                        "the audit trail."
                    ),
                )
            offline_adapter(self._providers, row["provider"])
            await self.guard.refuse_if_open(row["provider"])
            async with transaction():
                earlier = await earlier_answer(answer, ChequeRead)
                if earlier is not None:
                    return earlier
                row = await load_cheque(cheque_id, lock=True)
                # A close of its batch counts it or not, never halfway: the close waits.
                await fetch(queries.SHARE_LOCK_BATCH, row["batch_id"])
                if row["status"] != "recorded":
                    raise _not_bounceable(row)
                await fetch(
                    queries.BOUNCING, cheque_id, reason.strip(), as_json(actor_json(by.actor))
                )
        except BillingError as refused:
            if refused.code not in _SENSITIVE:
                after = {"status": row["status"], "error": str(refused.detail)}
            else:
                after = {"status": row["status"]}
            await audit(
                by.actor,
                {"account_id": row["account_id"]},
                str(cheque_id),
                Action.CHEQUE_BOUNCE_REFUSED,
                after,
                reason=refused.code.value,
            )
            raise
        read = await writing.reverse_at_provider(self._providers, self.guard, cheque_id, answer)
        if read.status == "bouncing":
            await self._hand_to_worker(cheque_id)
        return read

    # -- batches -------------------------------------------------------------------------------

    async def close_batch(
        self,
        batch_id: uuid.UUID,
        body: BatchClose,
        by: Requester,
        *,
        answer: AnswerSlot | None = None,
    ) -> BatchRead:
        """Closed when the scanner's total equals the batch's; otherwise it stays open and
        409 `cheque_batch_total_mismatch` says by how much, and which cheques came after the
        scan. Every attempt is kept as a scan row."""
        mismatch: BillingError | None = None
        try:
            async with transaction():
                earlier = await earlier_answer(answer, BatchRead)
                if earlier is not None:
                    return earlier
                closer = await closer_of(by.staff_id, body.closed_by)
                batch = await queries.locked_batch(batch_id)
                if batch is None:
                    raise batch_not_found(batch_id)
                refuse_depositor(batch, closer)
                if batch["status"] == "closed":
                    raise BillingError(
                        ErrorCode.CHEQUE_BATCH_CLOSED,
                        Message(
                            "Batch {batch} is already closed (by {username}); new cheques go to "
                            "a new batch.",
                            batch=batch_name(batch),
                            username=batch["closed_by_username"],
                        ),
                    )
                counts = await queries.batch_counts(batch_id)
                if counts["busy"]:
                    raise BillingError(
                        ErrorCode.CHEQUE_BATCH_BUSY,
                        Message(
                            "{count} cheque(s) of batch {batch} are still being written at the "
                            "provider; close it again in a minute.",
                            count=counts["busy"],
                            batch=batch_name(batch),
                        ),
                        headers={"Retry-After": "30"},
                    )
                scanner = body.scanner_total_minor
                scan = await store_scan(
                    batch_id, scanner, counts, closer, by.actor, body.scanned_at
                )
                after = {
                    "scanner_total_minor": scanner,
                    "batch_total_minor": counts["total"],
                    "cheque_count": counts["count"],
                    "closed_by": closer.username,
                }
                if scanner == counts["total"]:
                    await queries.deposit_and_close(batch_id, closer.id, closer.username, scanner)
                    await audit(
                        by.actor,
                        {},
                        str(batch_id),
                        Action.CHEQUE_BATCH_CLOSE_SUCCEEDED,
                        after,
                    )
                    read = await read_batch(batch_id)
                    await store_answer(answer, HTTP_200_OK, read)
                    return read
                mismatch = _mismatch(
                    batch,
                    scanner,
                    counts["total"],
                    await cheques_since(batch_id, scan["id"], body.scanned_at),
                )
                # Kept with the scan row: the batch stays open, the difference is on record.
                await audit(
                    by.actor,
                    {},
                    str(batch_id),
                    Action.CHEQUE_BATCH_CLOSE_REFUSED,
                    after,
                    reason=mismatch.code.value,
                )
        except BillingError as refused:
            await audit(
                by.actor,
                {},
                str(batch_id),
                Action.CHEQUE_BATCH_CLOSE_REFUSED,
                {"scanner_total_minor": body.scanner_total_minor, "error": str(refused.detail)},
                reason=refused.code.value,
            )
            raise
        assert mismatch is not None  # the match returned above
        raise mismatch

    async def batch(self, batch_id: uuid.UUID) -> BatchRead:
        return await read_batch(batch_id)

    async def batches(
        self,
        *,
        business_date: date | None = None,
        status: BatchStatus | None = None,
        currency: str | None = None,
        depositor: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> BatchPage:
        return await list_batches(
            business_date=business_date,
            status=status,
            currency=currency,
            depositor=depositor,
            cursor=cursor,
            limit=limit,
        )

    async def slip(self, batch_id: uuid.UUID) -> SlipRead:
        """The batch and the cheques it deposits, oldest first: a closed batch's as they went
        to the bank (one that bounced later included), an open one's as they stand (the page
        marks it "not closed"). Failed and bounced entries of an open batch are not in it."""
        batch = await read_batch(batch_id)
        rows = await queries.slip_rows(batch_id)
        return SlipRead(batch=batch, cheques=[cheque_read(row) for row in rows])

    async def report(self, date_from: date, date_to: date, currency: str | None = None) -> Report:
        return await daily_report(
            date_from,
            date_to,
            currency.upper() if currency else None,
            self._settings.operations_time_zone,
        )

    # -- the back-office form ------------------------------------------------------------------

    async def open_invoices(self, provider: str, account_ref: str) -> tuple[Account, list[Invoice]]:
        """The account (by id, number, email or back-office id) and its open invoices."""
        adapter = offline_adapter(self._providers, provider)

        async def read(call: Callable[[], Awaitable[Any]]) -> Any:
            return await self.guard.call_once(provider, call)

        account: Account = await read(lambda: find_account(adapter, provider, account_ref.strip()))
        invoices = await read(lambda: adapter.list_invoices(account.id, limit=100))
        return account, [
            invoice
            for invoice in invoices
            if invoice.status == "open" and invoice.balance.amount_minor > 0
        ]

    # -- the worker's part ---------------------------------------------------------------------

    async def finish(self, cheque_id: uuid.UUID) -> str:
        return await writing.finish(self._providers, self.guard, cheque_id)

    async def finish_unfinished(self, older_than_seconds: float = 30) -> int:
        """The sweep: every cheque left `recording` or `bouncing` for `older_than_seconds`
        (its process died, or the provider was down) carried on; how many it took."""
        taken = await queries.unfinished(float(older_than_seconds), SWEEP_BATCH)
        for cheque_id in taken:
            try:
                await self.finish(cheque_id)
            except Exception as error:  # the next sweep tries again
                _log.warning("cheque not finished", cheque_id=str(cheque_id), error=str(error))
        return len(taken)

    async def _hand_to_worker(self, cheque_id: uuid.UUID) -> None:
        """Defer its job; if that fails (the queue is down), the minute sweep finds it."""
        if self._defer is None:
            from gateway.cheques.jobs import defer_finish

            defer: Defer = defer_finish
        else:
            defer = self._defer
        try:
            await defer(cheque_id)
        except Exception as error:  # the sweep is the fallback
            _log.warning("cheque not deferred", cheque_id=str(cheque_id), error=str(error))

    # -- reads ---------------------------------------------------------------------------------

    async def read(self, cheque_id: uuid.UUID) -> ChequeRead:
        return await read_cheque(cheque_id)

    async def list(
        self,
        *,
        business_date: date | None = None,
        currency: str | None = None,
        status: ChequeStatus | None = None,
        batch_id: uuid.UUID | None = None,
        provider: str | None = None,
        account_id: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> ChequePage:
        """Newest first."""
        return await list_cheques(
            business_date=business_date,
            currency=currency,
            status=status,
            batch_id=batch_id,
            provider=provider,
            account_id=account_id,
            cursor=cursor,
            limit=limit,
        )


# Why a cheque cannot bounce, one whole sentence per status (each translated as a whole).
_NOT_BOUNCEABLE = {
    "recording": N_(
        "Cheque {number} is still being recorded at the provider; try again in a minute: only "
        "a recorded cheque can bounce."
    ),
    "bouncing": N_(
        "Cheque {number} is being marked bounced already (the provider is reversing it); read "
        "it again in a minute: only a recorded cheque can bounce."
    ),
    "bounced": N_("Cheque {number} has already bounced: only a recorded cheque can bounce."),
    "failed": N_(
        "Cheque {number} was never recorded at the provider (it failed): only a recorded "
        "cheque can bounce."
    ),
}


def _not_bounceable(row: dict[str, Any]) -> BillingError:
    template = _NOT_BOUNCEABLE.get(row["status"])
    detail = (
        Message(template, number=row["number"])
        if template
        else Message(
            "Cheque {number} is {status}: only a recorded cheque can bounce.",
            number=row["number"],
            status=row["status"],
        )
    )
    return BillingError(ErrorCode.CHEQUE_NOT_BOUNCEABLE, detail, extra={"status": row["status"]})


def _mismatch(
    batch: dict[str, Any], scanner: int, total: int, since: list[dict[str, Any]]
) -> BillingError:
    currency = batch["currency"]
    difference = total - scanner
    amounts = {
        "scanner": AmountText(scanner, currency),
        "batch": batch_name(batch),
        "total": AmountText(total, currency),
        "difference": AmountText(difference, currency),
    }
    detail = (
        Message(
            "The scanner's total ({scanner}) differs from batch {batch} ({total}) by "
            "{difference}; {count} cheque(s) were entered after the scan. The batch stays open: "
            "find the cheque missing or entered wrongly, then scan again.",
            count=len(since),
            **amounts,
        )
        if since
        else Message(
            "The scanner's total ({scanner}) differs from batch {batch} ({total}) by "
            "{difference}. The batch stays open: find the cheque missing or entered wrongly, "
            "then scan again.",
            **amounts,
        )
    )
    return BillingError(
        ErrorCode.CHEQUE_BATCH_TOTAL_MISMATCH,
        detail,
        extra={
            "batch_total": {"amount_minor": total, "currency": currency},
            "scanner_total": {"amount_minor": scanner, "currency": currency},
            "difference": {"amount_minor": difference, "currency": currency},
            "cheques_since_scan": since,
        },
    )
