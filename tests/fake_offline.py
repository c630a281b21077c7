"""An in-memory provider for offline payments: accounts with open invoices, and cheques
recorded against them (or as a credit), found again by their payment number and reversed, as
the real adapters do. Its writes can be lost (`down`: the connection drops), or it can refuse
the next write."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import httpx

from adapters.ports import (
    Account,
    AccountLookup,
    Invoice,
    InvoiceStatus,
    Money,
    NewOfflinePayment,
    OfflinePayment,
    Payment,
    RefundResult,
    Subscription,
)
from gateway.core.errors import BillingError

TODAY = datetime.now(UTC).date()


class FakeOffline:
    transport_name = "fake"

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.invoices: dict[str, Invoice] = {}
        self.payments: dict[str, OfflinePayment] = {}  # by payment number
        self.writes: list[str] = []  # every payment number written, repeats included
        self.down = False
        self.refuse_next: BillingError | None = None

    def account(self, account_id: str, currency: str, *invoices: int) -> None:
        self.accounts[account_id] = Account(
            account_id, f"N-{account_id}", f"{account_id} Ltd", currency, 1, None, "active"
        )
        for position, amount in enumerate(invoices, 1):
            invoice_id = f"inv_{account_id}_{position}"
            self.invoices[invoice_id] = Invoice(
                id=invoice_id,
                number=f"INV-{account_id}-{position}",
                account_id=account_id,
                status="open",
                total=Money(amount, currency),
                balance=Money(amount, currency),
                issued_on=TODAY,
                due_on=TODAY,
            )

    def _reachable(self) -> None:
        """Writes only: the account and invoice were read a moment before."""
        if self.down:
            raise httpx.ConnectError("the fake provider is down")

    async def close(self) -> None:
        return None

    async def find_account(self, lookup: AccountLookup) -> Account | None:
        for account in self.accounts.values():
            if lookup.id == account.id or (lookup.number and lookup.number == account.number):
                return account
        return None

    async def list_invoices(self, account_id: str, *, limit: int = 50) -> Sequence[Invoice]:
        return [i for i in self.invoices.values() if i.account_id == account_id][:limit]

    async def get_invoice(self, invoice_id: str) -> Invoice | None:
        return self.invoices.get(invoice_id)

    async def list_payments(self, account_id: str, *, limit: int = 50) -> Sequence[Payment]:
        return []

    async def get_payment(self, payment_id: str) -> Payment | None:
        return None

    async def list_refunds(self, account_id: str, *, limit: int = 50) -> Sequence[RefundResult]:
        return []

    async def list_subscriptions(self, account_id: str) -> Sequence[Subscription]:
        return []

    async def get_subscription(self, subscription_id: str) -> Subscription | None:
        return None

    def _pay(self, invoice_id: str, minor: int) -> InvoiceStatus:
        invoice = self.invoices[invoice_id]
        left = invoice.balance.amount_minor - minor
        status: InvoiceStatus = "paid" if left == 0 else "open"
        self.invoices[invoice_id] = replace(
            invoice, balance=Money(left, invoice.balance.currency), status=status
        )
        return status

    async def record_offline_payment(
        self, payment: NewOfflinePayment, *, idempotency_key: str
    ) -> OfflinePayment:
        self._reachable()
        self.writes.append(payment.payment_number)
        if payment.payment_number in self.payments:  # a repeat: the first, nothing new
            return self.payments[payment.payment_number]
        if self.refuse_next is not None:
            refusal, self.refuse_next = self.refuse_next, None
            raise refusal
        status = (
            self._pay(payment.invoice_id, payment.amount.amount_minor)
            if payment.invoice_id
            else None
        )
        made = OfflinePayment(
            id=f"pay_{len(self.payments) + 1}",
            account_id=payment.account_id,
            payment_number=payment.payment_number,
            reference=payment.reference,
            amount=payment.amount,
            invoice_id=payment.invoice_id,
            status="recorded",
            invoice_status=status,
        )
        self.payments[payment.payment_number] = made
        return made

    async def find_offline_payment(
        self, account_id: str, payment_number: str
    ) -> OfflinePayment | None:
        return self.payments.get(payment_number)

    async def reverse_offline_payment(
        self, account_id: str, payment_number: str, *, reason: str, idempotency_key: str
    ) -> OfflinePayment:
        self._reachable()
        made = self.payments[payment_number]
        if made.status == "reversed":
            return made
        status = self._pay(made.invoice_id, -made.amount.amount_minor) if made.invoice_id else None
        reversed_ = replace(made, status="reversed", invoice_status=status)
        self.payments[payment_number] = reversed_
        return reversed_
