"""The Stripe adapter's offline payments (mailed cheques, issue 17). Mixed into StripeAdapter.

Against an invoice, the mechanism the pinned API version (2026-10-28.endive) documents for a
payment made outside Stripe: a PaymentRecord (`POST /v1/payment_records/report_payment`, a
custom payment method, a custom processor whose `payment_reference` is the cheque's number,
outcome `guaranteed`), attached to the invoice (`POST /v1/invoices/{id}/attach_payment`), which
credits it (`paid` when nothing remains). `paid_out_of_band` is deprecated and never used.
Without an invoice, a credit on the customer's balance (a negative balance transaction), which
Stripe applies to the next invoice.

The gateway's payment number, in the metadata of each, is how a repeat finds the first write:
Stripe lists neither payment records by customer nor balance transactions by metadata, so the
adapter reads the customer's invoices (their `payments` expanded) and balance transactions. A
bounce reports the record refunded in full (`report_refund`) or withdraws the credit (a positive
balance transaction naming the one it reverses); the invoice's status is then read back and
passed on as Stripe states it.

The bounce's reason stays in the gateway (its audit and the cheque): free text typed by staff
is not copied into Stripe's metadata, where nothing would check it for card numbers.

Every write carries an Idempotency-Key derived from the caller's key and the step; the times
sent are whole days (the cheque's date, the day of the bounce), so that a repeat under the same
key sends the same parameters and Stripe replays its first answer instead of refusing it.
"""

from __future__ import annotations

import calendar
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from adapters.money import format_money
from adapters.ports import InvoiceStatus, Money, NewOfflinePayment, OfflinePayment
from adapters.stripe.calls import under_key
from adapters.stripe.client import derived_key
from adapters.stripe.mapping import plain
from adapters.stripe.records import from_stripe_invoice
from adapters.stripe.units import from_stripe_amount, to_stripe_amount
from gateway.core.errors import BillingError, ErrorCode

METHOD_NAME = "Cheque"  # how Stripe's dashboard shows the custom payment method
NUMBER_KEY = "gateway_payment_number"
REVERSES_KEY = "gateway_reverses"  # on a withdrawal: the credit it takes back
READING = "reading the offline payments"


def _day_start(day: date) -> int:
    return calendar.timegm(day.timetuple())


def _metadata(payment: NewOfflinePayment) -> dict[str, str]:
    tags = {NUMBER_KEY: payment.payment_number, "cheque_reference": payment.reference}
    if payment.invoice_id:
        tags["invoice"] = payment.invoice_id
    return tags


def _from_record(record: dict[str, Any], invoice_status: InvoiceStatus | None) -> OfflinePayment:
    requested = record.get("amount_requested") or {}
    refunded = int((record.get("amount_refunded") or {}).get("value") or 0)
    metadata = record.get("metadata") or {}
    custom = (record.get("processor_details") or {}).get("custom") or {}
    value = int(requested.get("value") or 0)
    return OfflinePayment(
        id=str(record["id"]),
        account_id=str((record.get("customer_details") or {}).get("customer") or ""),
        payment_number=str(metadata.get(NUMBER_KEY) or ""),
        reference=str(custom.get("payment_reference") or metadata.get("cheque_reference") or ""),
        amount=from_stripe_amount(value, str(requested.get("currency") or "eur")),
        invoice_id=metadata.get("invoice"),
        status="reversed" if value and refunded >= value else "recorded",
        invoice_status=invoice_status,
    )


def _from_credit(credit: dict[str, Any], reversed_: bool) -> OfflinePayment:
    metadata = credit.get("metadata") or {}
    return OfflinePayment(
        id=str(credit["id"]),
        account_id=str(credit["customer"]),
        payment_number=str(metadata.get(NUMBER_KEY) or ""),
        reference=str(metadata.get("cheque_reference") or ""),
        amount=from_stripe_amount(-int(credit["amount"]), str(credit["currency"])),
        invoice_id=None,
        status="reversed" if reversed_ else "recorded",
    )


def _recorded_ids(invoice: dict[str, Any]) -> list[str]:
    """The PaymentRecords attached to the invoice (its `payments`, expanded)."""
    found = []
    for payment in (invoice.get("payments") or {}).get("data") or []:
        kind = payment.get("payment") or {}
        record = kind.get("payment_record") if kind.get("type") == "payment_record" else None
        if isinstance(record, dict):
            record = record.get("id")
        if record:
            found.append(str(record))
    return found


class StripeOfflinePayments:
    _stripe: Any
    _call: Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]

    # -- recording -----------------------------------------------------------------------------

    @under_key
    async def record_offline_payment(
        self, payment: NewOfflinePayment, *, idempotency_key: str
    ) -> OfflinePayment:
        if payment.invoice_id is None:
            return await self._record_credit(payment, idempotency_key)
        return await self._record_on_invoice(payment, payment.invoice_id, idempotency_key)

    async def _record_on_invoice(
        self, payment: NewOfflinePayment, invoice_id: str, idempotency_key: str
    ) -> OfflinePayment:
        step = "recording the cheque against the invoice"
        invoice = await self._invoice(invoice_id)
        if str(invoice.get("customer")) != payment.account_id:
            raise BillingError(
                ErrorCode.VALIDATION_FAILED,
                f"The invoice {invoice_id} is not one of the customer {payment.account_id}'s "
                "invoices at Stripe; choose one of theirs.",
            )
        earlier = await self._record_among(invoice, payment.payment_number)
        if earlier is not None:
            return _from_record(earlier, from_stripe_invoice(invoice).status)  # a repeat
        _refuse_unless_payable(invoice, payment.amount)
        day = _day_start(payment.effective_on)
        record = plain(
            await self._call(
                step,
                lambda: self._stripe.payment_records.report_payment_async(
                    params={
                        "amount_requested": {
                            "currency": payment.amount.currency.lower(),
                            "value": to_stripe_amount(payment.amount, action="record"),
                        },
                        "initiated_at": day,
                        "outcome": "guaranteed",
                        "guaranteed": {"guaranteed_at": day},
                        "customer_details": {"customer": payment.account_id},
                        "payment_method_details": {
                            "type": "custom",
                            "custom": {"display_name": METHOD_NAME},
                        },
                        "processor_details": {
                            "type": "custom",
                            "custom": {"payment_reference": payment.reference},
                        },
                        "description": payment.description,
                        "metadata": _metadata(payment),
                    },
                    options={"idempotency_key": derived_key(idempotency_key, "report-payment")},
                ),
            )
        )
        try:
            attached = plain(
                await self._call(
                    step,
                    lambda: self._stripe.invoices.attach_payment_async(
                        invoice_id,
                        params={"payment_record": str(record["id"])},
                        options={"idempotency_key": derived_key(idempotency_key, "attach")},
                    ),
                )
            )
        except BillingError as refused:
            if refused.code is not ErrorCode.PROVIDER_REJECTED:
                raise
            # The invoice would not take it (paid by card meanwhile, ...): the guaranteed
            # record must not stay in Stripe's ledger as money received for nothing.
            await self._withdraw_unattached(record, payment, idempotency_key)
            # Stripe's refusal, in the gateway's words where the invoice tells why.
            _refuse_unless_payable(await self._invoice(invoice_id), payment.amount)
            raise
        return _from_record(record, from_stripe_invoice(attached).status)

    async def _withdraw_unattached(
        self, record: dict[str, Any], payment: NewOfflinePayment, idempotency_key: str
    ) -> None:
        today = _day_start(datetime.now(UTC).date())
        await self._call(
            "withdrawing the cheque's unattached payment record",
            lambda: self._stripe.payment_records.report_refund_async(
                str(record["id"]),
                params={
                    "outcome": "refunded",
                    "amount": {
                        "currency": payment.amount.currency.lower(),
                        "value": to_stripe_amount(payment.amount, action="record"),
                    },
                    "initiated_at": today,
                    "refunded": {"refunded_at": today},
                    "processor_details": {
                        "type": "custom",
                        "custom": {"refund_reference": f"{payment.payment_number}-UNATTACHED"},
                    },
                    "metadata": {
                        NUMBER_KEY: payment.payment_number,
                        "gateway_reversal": "unattached",
                    },
                },
                options={"idempotency_key": derived_key(idempotency_key, "withdraw-unattached")},
            ),
        )

    async def _record_credit(
        self, payment: NewOfflinePayment, idempotency_key: str
    ) -> OfflinePayment:
        step = "recording the cheque as a credit"
        found = await self._credit_of(payment.account_id, payment.payment_number, newest_only=True)
        if found is not None:
            return _from_credit(*found)  # a repeat
        customer = plain(
            await self._call(
                step, lambda: self._stripe.customers.retrieve_async(payment.account_id)
            )
        )
        currency = str(customer.get("currency") or "").upper()
        if currency and currency != payment.amount.currency.upper():
            raise BillingError(
                ErrorCode.CURRENCY_MISMATCH,
                f"The customer {payment.account_id} is billed in {currency} at Stripe; a "
                f"credit in {payment.amount.currency.upper()} cannot be applied to their "
                "invoices. Record the cheque in their currency.",
                extra={"account_currency": currency},
            )
        credit = plain(
            await self._call(
                step,
                lambda: self._stripe.customers.balance_transactions.create_async(
                    payment.account_id,
                    params={
                        "amount": -to_stripe_amount(payment.amount, action="record"),
                        "currency": payment.amount.currency.lower(),
                        "description": payment.description,
                        "metadata": _metadata(payment),
                    },
                    options={"idempotency_key": derived_key(idempotency_key, "credit")},
                ),
            )
        )
        return _from_credit(credit, False)

    # -- finding -------------------------------------------------------------------------------

    async def find_offline_payment(
        self, account_id: str, payment_number: str
    ) -> OfflinePayment | None:
        credit = await self._credit_of(account_id, payment_number)
        if credit is not None:
            return _from_credit(*credit)
        found = await self._record_of(account_id, payment_number)
        if found is None:
            return None
        record, invoice = found
        return _from_record(record, from_stripe_invoice(invoice).status)

    # -- reversing -----------------------------------------------------------------------------

    @under_key
    async def reverse_offline_payment(
        self, account_id: str, payment_number: str, *, reason: str, idempotency_key: str
    ) -> OfflinePayment:
        credit = await self._credit_of(account_id, payment_number)
        if credit is not None:
            return await self._withdraw(credit[0], credit[1], idempotency_key)
        found = await self._record_of(account_id, payment_number)
        if found is None:
            raise BillingError(
                ErrorCode.PROVIDER_NOT_FOUND,
                f"Stripe holds no offline payment {payment_number} for the customer "
                f"{account_id}; nothing was reversed.",
            )
        record, invoice = found
        if _from_record(record, None).status == "reversed":
            return _from_record(record, from_stripe_invoice(invoice).status)  # done already
        step = "reporting the bounced cheque as refunded"
        requested = record["amount_requested"]
        left = int(requested["value"]) - int(
            (record.get("amount_refunded") or {}).get("value") or 0
        )
        today = _day_start(datetime.now(UTC).date())
        refunded = plain(
            await self._call(
                step,
                lambda: self._stripe.payment_records.report_refund_async(
                    str(record["id"]),
                    params={
                        "outcome": "refunded",
                        "amount": {"currency": requested["currency"], "value": left},
                        "initiated_at": today,
                        "refunded": {"refunded_at": today},
                        "processor_details": {
                            "type": "custom",
                            # unique across all of the account's refunds: one per payment
                            "custom": {"refund_reference": f"{payment_number}-BOUNCED"},
                        },
                        "metadata": {NUMBER_KEY: payment_number, "gateway_reversal": "bounced"},
                    },
                    options={"idempotency_key": derived_key(idempotency_key, "report-refund")},
                ),
            )
        )
        after = await self._invoice(str(invoice["id"]))
        return _from_record(refunded, from_stripe_invoice(after).status)

    async def _withdraw(
        self, credit: dict[str, Any], withdrawn: bool, idempotency_key: str
    ) -> OfflinePayment:
        if withdrawn:
            return _from_credit(credit, True)
        metadata = credit.get("metadata") or {}
        await self._call(
            "withdrawing the bounced cheque's credit",
            lambda: self._stripe.customers.balance_transactions.create_async(
                str(credit["customer"]),
                params={
                    "amount": -int(credit["amount"]),
                    "currency": str(credit["currency"]),
                    "description": f"Bounced: {credit.get('description') or credit['id']}",
                    "metadata": {
                        NUMBER_KEY: str(metadata.get(NUMBER_KEY) or ""),
                        REVERSES_KEY: str(credit["id"]),
                        "gateway_reversal": "bounced",
                    },
                },
                options={"idempotency_key": derived_key(idempotency_key, "withdraw-credit")},
            ),
        )
        return _from_credit(credit, True)

    # -- reading -------------------------------------------------------------------------------

    async def _invoice(self, invoice_id: str) -> dict[str, Any]:
        return plain(
            await self._call(
                "reading the invoice",
                lambda: self._stripe.invoices.retrieve_async(
                    invoice_id, params={"expand": ["payments"]}
                ),
            )
        )

    async def _all(self, read: Callable[[], Awaitable[Any]]) -> list[dict[str, Any]]:
        async def every_page() -> list[dict[str, Any]]:
            first = await read()
            return [plain(found) async for found in first.auto_paging_iter()]

        found: list[dict[str, Any]] = await self._call(READING, every_page)
        return found

    async def _credit_of(
        self, account_id: str, payment_number: str, *, newest_only: bool = False
    ) -> tuple[dict[str, Any], bool] | None:
        """The credit recorded under the number, and whether it was withdrawn since.
        `newest_only`: the customer's last 100 transactions, enough to find a repeat of a write
        just made (a retry, the sweep) without reading a long history for every new cheque."""

        async def first_page() -> Any:
            return await self._stripe.customers.balance_transactions.list_async(
                account_id, params={"limit": 100}
            )

        if newest_only:
            page = await self._call(READING, first_page)
            transactions = [plain(found) for found in page.data]
        else:
            transactions = await self._all(first_page)
        ours = [
            transaction
            for transaction in transactions
            if (transaction.get("metadata") or {}).get(NUMBER_KEY) == payment_number
        ]
        credit = next((t for t in ours if int(t["amount"]) < 0), None)
        if credit is None:
            return None
        withdrawn = any((t.get("metadata") or {}).get(REVERSES_KEY) == credit["id"] for t in ours)
        return credit, withdrawn

    async def _record_among(
        self, invoice: dict[str, Any], payment_number: str
    ) -> dict[str, Any] | None:
        for record_id in _recorded_ids(invoice):
            record = await self._payment_record(record_id)
            if (record.get("metadata") or {}).get(NUMBER_KEY) == payment_number:
                return record
        return None

    async def _payment_record(self, record_id: str) -> dict[str, Any]:
        return plain(
            await self._call(
                READING, lambda: self._stripe.payment_records.retrieve_async(record_id)
            )
        )

    async def _record_of(
        self, account_id: str, payment_number: str
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The payment record under the number, and the invoice it is attached to."""
        invoices = await self._all(
            lambda: self._stripe.invoices.list_async(
                params={"customer": account_id, "limit": 100, "expand": ["data.payments"]}
            )
        )
        for invoice in invoices:
            record = await self._record_among(invoice, payment_number)
            if record is not None:
                return record, invoice
        return None


def _refuse_unless_payable(invoice: dict[str, Any], amount: Money) -> None:
    """What Stripe would refuse, or what would overpay the invoice, said before any write."""
    status = str(invoice.get("status"))
    number = invoice.get("number") or invoice["id"]
    if status != "open":
        raise BillingError(
            ErrorCode.INVOICE_NOT_OPEN,
            f"The invoice {number} is {status} at Stripe; a cheque is recorded against an open "
            "invoice only (record it as a credit for the next invoice instead).",
            extra={"provider": "stripe", "invoice_status": status},
        )
    currency = str(invoice["currency"]).upper()
    if amount.currency.upper() != currency:
        raise BillingError(
            ErrorCode.CURRENCY_MISMATCH,
            f"The invoice {number} is in {currency}; the cheque is in "
            f"{amount.currency.upper()}. Record it against an invoice in its currency.",
            extra={"invoice_currency": currency},
        )
    balance = from_stripe_amount(int(invoice.get("amount_remaining") or 0), currency)
    if amount.amount_minor > balance.amount_minor:
        raise BillingError(
            ErrorCode.CHEQUE_EXCEEDS_INVOICE,
            f"The cheque ({format_money(amount.amount_minor, currency)}) is more than the "
            f"{format_money(balance.amount_minor, currency)} still due on the invoice {number}; "
            "record the difference as a credit, or check the amount.",
            extra={"balance": {"amount_minor": balance.amount_minor, "currency": currency}},
        )
