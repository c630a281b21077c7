"""The seam between ZuoraAdapter and the wire: one implementation over SOAP (zeep), one over
REST (httpx). Each speaks its API's dialect and returns the neutral values of `adapters.ports`;
the adapter keeps what both share: the order of the steps, the checks a careful specialist makes,
and finding earlier work before repeating a write.

A transport's write raises `UnknownOutcomeError` when it cannot tell whether Zuora made the
change (the answer was lost); the adapter then looks for the change by its marker before trying
again. `marker` is a short reference derived from the caller's idempotency key, stored on the
object Zuora makes (a mandate id, an amendment name, an order number, a refund reference); an
external payment is found by the payment number the gateway gives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal, Protocol

from adapters.ports import (
    Account,
    AccountLookup,
    Collection,
    Contact,
    Money,
    NewOfflinePayment,
    NewSepaMethod,
    PaymentMethod,
    QuantityChange,
    QuantityChangePreview,
    RefundResult,
    Subscription,
)
from adapters.zuora.calls import CallLog

TransportName = Literal["soap", "rest"]


class UnknownOutcomeError(Exception):
    """A write was sent and no answer came back: Zuora may or may not have made the change."""


class ZuoraTransport(Protocol):
    name: TransportName
    calls: CallLog  # the last call per write, for `ZuoraAdapter.last_write`

    async def find_account(self, lookup: AccountLookup) -> Account | None: ...

    async def payment_methods(self, account: Account) -> Sequence[PaymentMethod]: ...

    async def bill_to_contact(self, account_id: str) -> Contact | None: ...

    async def payment_method_by_mandate(
        self, account_id: str, mandate_id: str
    ) -> PaymentMethod | None: ...

    async def create_sepa(
        self, account_id: str, method: NewSepaMethod, key: str
    ) -> str | None: ...  # the new method's id, when Zuora's answer says it

    async def set_default(self, account_id: str, payment_method_id: str, key: str) -> None: ...

    async def close_payment_method(self, payment_method_id: str, key: str) -> None: ...

    async def payments_in_flight(self, account: Account) -> Sequence[Collection]: ...

    async def active_subscription(self, account: Account) -> Subscription | None: ...

    async def subscription(self, number: str) -> Subscription: ...

    async def preview_update(
        self, subscription: Subscription, change: QuantityChange
    ) -> QuantityChangePreview: ...

    async def change_made(self, marker: str) -> bool: ...

    async def update_product(
        self, subscription: Subscription, change: QuantityChange, marker: str, key: str
    ) -> None: ...

    async def cancel(
        self, subscription: Subscription, effective_on: date, marker: str, key: str
    ) -> None: ...

    async def refund_by_marker(self, payment_id: str, marker: str) -> RefundResult | None: ...

    async def refund(self, payment_id: str, amount: Money, marker: str, key: str) -> None: ...

    async def invoice_pdf(self, invoice_id: str) -> bytes: ...

    async def create_external_payment(
        self, payment: NewOfflinePayment, method_id: str, key: str
    ) -> None: ...  # a cheque: an External payment, with the tenant's Check method

    async def cancel_payment(self, payment_id: str, key: str) -> None: ...

    async def close(self) -> None: ...
