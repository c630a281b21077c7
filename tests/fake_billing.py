"""A small in-memory provider for corrections: payments, invoices and subscriptions of one
customer, and the write ports, each exactly-once under a repeated idempotency key (as the real
adapters are). It counts what it did, so a test can tell one refund from two."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from adapters.ports import (
    Account,
    AccountLookup,
    Invoice,
    Money,
    Payment,
    RefundResult,
    Subscription,
)
from gateway.core.errors import BillingError, ErrorCode

ACCOUNT = "acct_fake"
TODAY = datetime.now(UTC).date()


class FakeBilling:
    transport_name = "fake"

    def __init__(self) -> None:
        self.payments: dict[str, Payment] = {}
        self.invoices: dict[str, Invoice] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.refunds: dict[str, RefundResult] = {}  # by idempotency key
        self.cancelled: dict[str, date] = {}
        self.voided: set[str] = set()
        self.calls: list[str] = []
        self.refuse_next: dict[str, BillingError] = {}  # operation -> the provider's refusal

    # -- demo data --------------------------------------------------------------------------

    def paid(self, pid: str, amount: int, currency: str = "EUR", sub: str | None = None) -> None:
        invoice_id = f"in_{pid}"
        self.payments[pid] = Payment(
            id=pid,
            account_id=ACCOUNT,
            amount=Money(amount, currency),
            refunded=Money(0, currency),
            status="succeeded",
            created_at=datetime.now(UTC),
            invoice_ids=(invoice_id,),
        )
        self.invoices[invoice_id] = Invoice(
            id=invoice_id,
            number=invoice_id.upper(),
            account_id=ACCOUNT,
            status="paid",
            total=Money(amount, currency),
            balance=Money(0, currency),
            issued_on=TODAY,
            due_on=TODAY,
            subscription_id=sub,
            payment_ids=(pid,),
        )

    def open_invoice(self, iid: str, amount: int, sub: str | None = None) -> None:
        self.invoices[iid] = Invoice(
            id=iid,
            number=iid.upper(),
            account_id=ACCOUNT,
            status="open",
            total=Money(amount, "EUR"),
            balance=Money(amount, "EUR"),
            issued_on=TODAY,
            due_on=TODAY,
            subscription_id=sub,
        )

    def subscription(self, sid: str, prepaid: bool = False) -> None:
        start = TODAY - timedelta(days=91)
        self.subscriptions[sid] = Subscription(
            id=sid,
            account_id=ACCOUNT,
            status="active",
            version=1,
            charges=(),
            current_period_start=start,
            current_period_end=start + timedelta(days=365),
            prepaid=prepaid,
        )

    # -- ports ------------------------------------------------------------------------------

    async def close(self) -> None:
        return None

    async def find_account(self, lookup: AccountLookup) -> Account | None:
        if ACCOUNT not in (lookup.id, lookup.number):
            return None
        return Account(ACCOUNT, ACCOUNT, "Fake SARL", "EUR", 1, None, "active")

    async def list_invoices(self, account_id: str, *, limit: int = 50) -> Sequence[Invoice]:
        return list(self.invoices.values())[::-1][:limit]

    async def get_invoice(self, invoice_id: str) -> Invoice | None:
        return self.invoices.get(invoice_id)

    async def list_payments(self, account_id: str, *, limit: int = 50) -> Sequence[Payment]:
        return list(self.payments.values())[::-1][:limit]

    async def get_payment(self, payment_id: str) -> Payment | None:
        return self.payments.get(payment_id)

    async def list_refunds(self, account_id: str, *, limit: int = 50) -> Sequence[RefundResult]:
        return list(self.refunds.values())

    async def list_subscriptions(self, account_id: str) -> Sequence[Subscription]:
        return list(self.subscriptions.values())

    async def get_subscription(self, subscription_id: str) -> Subscription | None:
        return self.subscriptions.get(subscription_id)

    def _maybe_fail(self, operation: str) -> None:
        refusal = self.refuse_next.pop(operation, None)
        if refusal is not None:
            raise refusal

    async def refund_payment(
        self, payment_id: str, amount: Money, *, idempotency_key: str
    ) -> RefundResult:
        self._maybe_fail("refund")
        if idempotency_key in self.refunds:
            return self.refunds[idempotency_key]  # a repeat: the first refund
        payment = self.payments[payment_id]
        if amount.amount_minor > payment.refundable.amount_minor:
            raise BillingError(ErrorCode.REFUND_EXCEEDS_PAYMENT, "More than is left.")
        self.calls.append(f"refund:{payment_id}:{amount.amount_minor}")
        self.payments[payment_id] = replace(
            payment,
            refunded=Money(payment.refunded.amount_minor + amount.amount_minor, amount.currency),
        )
        made = RefundResult(f"re_{len(self.refunds) + 1}", amount, "succeeded", payment_id)
        self.refunds[idempotency_key] = made
        return made

    async def active_subscription(self, account_id: str) -> Subscription | None:
        return next(iter(self.subscriptions.values()), None)

    async def preview_quantity_change(self, change: object) -> object:
        raise NotImplementedError

    async def apply_quantity_change(self, change: object, *, idempotency_key: str) -> object:
        raise NotImplementedError

    async def cancel_subscription(
        self, subscription_id: str, effective_on: date, *, idempotency_key: str
    ) -> None:
        self._maybe_fail("cancel")
        if subscription_id not in self.cancelled:
            self.calls.append(f"cancel:{subscription_id}")
        self.cancelled[subscription_id] = effective_on
        self.subscriptions[subscription_id] = replace(
            self.subscriptions[subscription_id], status="cancelled"
        )

    async def void_invoice(self, invoice_id: str, *, idempotency_key: str) -> None:
        self._maybe_fail("void")
        if invoice_id not in self.voided:
            self.calls.append(f"void:{invoice_id}")
        self.voided.add(invoice_id)
        self.invoices[invoice_id] = replace(self.invoices[invoice_id], status="void")
