"""What the gateway needs from a billing provider, in provider-neutral terms.

Ports are capabilities, not one big interface: an adapter implements the ones its provider
supports and says so in `capabilities`, which `GET /v1/capabilities` will show. Values are frozen
dataclasses; money is integer minor units plus an ISO currency; a full IBAN appears only in
`NewSepaMethod`, on its way into an adapter, and never comes back out.
Every mutating call takes a keyword-only `idempotency_key`, derived by the caller per step
(`<client key>:zuora:create-pm`), which the adapter forwards or uses to find its earlier work.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol, runtime_checkable


class Capability(enum.StrEnum):
    ACCOUNTS = "accounts"
    PAYMENT_METHODS = "payment_methods"
    COLLECTIONS = "collections"
    SUBSCRIPTIONS = "subscriptions"
    REFUNDS = "refunds"
    INVOICE_PDFS = "invoice_pdfs"
    INVOICE_LINKS = "invoice_links"
    INVOICE_VOIDING = "invoice_voiding"
    PAYOUT_ACCOUNTS = "payout_accounts"
    BLOCKLIST_MIRROR = "blocklist_mirror"
    CONTACTS = "contacts"
    BILLING_HISTORY = "billing_history"
    RECEIPTS = "receipts"
    OFFLINE_PAYMENTS = "offline_payments"


@dataclass(frozen=True)
class Money:
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class AccountLookup:
    """Any one of these finds an account; several narrow it down."""

    id: str | None = None
    number: str | None = None
    email: str | None = None
    company_name: str | None = None
    backoffice_id: str | None = None  # the shop's id in the company's own back office


@dataclass(frozen=True)
class Account:
    id: str
    number: str
    name: str
    currency: str
    bill_cycle_day: int | None
    default_payment_method_id: str | None
    status: str


PaymentMethodKind = Literal["sepa_debit", "bank_transfer", "card", "other"]


@dataclass(frozen=True)
class PaymentMethod:
    id: str
    kind: PaymentMethodKind
    active: bool
    is_default: bool
    masked: str | None  # "FR****0189" or "card ****4242": never more
    holder: str | None = None
    bank_name: str | None = None
    bic: str | None = None
    mandate_id: str | None = None
    created_at: datetime | None = None
    bank_code: str | None = None
    fingerprint: str | None = None  # the provider's: same bank account or card, same value


@dataclass(frozen=True)
class Collection:
    """A debit being collected right now: changing bank details under it makes it fail."""

    id: str
    amount: Money
    status: str
    payment_method_id: str | None
    effective_on: date | None
    method_masked: str | None = None  # the method debited, "DE****3000", when the adapter knows


@dataclass(frozen=True)
class NewSepaMethod:
    iban: str = field(repr=False)  # compact, validated; kept out of reprs and logs
    holder: str
    email: str | None
    mandate_id: str
    mandate_signed_on: date
    bic: str | None = None
    bank_name: str | None = None
    change_request_id: str | None = None  # names the request in the provider's metadata
    # The holder's address: Stripe needs it for IBANs of SEPA countries outside the EEA.
    holder_address: PostalAddress | None = None


@dataclass(frozen=True)
class RecurringCharge:
    """One recurring charge as it will bill from `effective_from` on. `id` is the provider's
    stable charge number (it survives new subscription versions)."""

    id: str
    name: str
    quantity: int
    unit_price: Money
    billing_period: str
    effective_from: date | None = None


@dataclass(frozen=True)
class Subscription:
    """`id` is the subscription number, stable across versions; `version` counts amendments."""

    id: str
    account_id: str
    status: str
    version: int
    charges: tuple[RecurringCharge, ...]
    # The period paid for (Stripe's current period, Zuora's current term): what a cancellation
    # leaves unused. None where the provider does not say.
    current_period_start: date | None = None
    current_period_end: date | None = None
    prepaid: bool = False  # billed in advance for the whole period (a package paid up front)


Proration = Literal["create_prorations", "always_invoice", "none"]


@dataclass(frozen=True)
class QuantityChange:
    subscription_id: str
    charge_id: str
    quantity: int
    effective_on: date  # Zuora: the next billing-cycle day; Stripe: today, or within the period
    # Stripe's explicit choice (Zuora changes on the billing day, so nothing is prorated):
    # on the next invoice, invoiced now, or not at all.
    proration: Proration = "create_prorations"
    # Stripe: the exact proration moment (unix seconds) the preview used; None: computed from
    # `effective_on`. Applying with the preview's value bills exactly what was previewed.
    proration_date: int | None = None


@dataclass(frozen=True)
class QuantityChangePreview:
    """What the customer will see: the first invoice after the change, and the monthly
    recurring amount before and after it."""

    effective_on: date
    next_invoice: Money
    recurring_before: Money
    recurring_after: Money
    proration: Proration | None = None  # Stripe: the behaviour the preview used
    proration_date: int | None = None  # Stripe: the moment it prorated to (unix seconds)


@dataclass(frozen=True)
class RefundResult:
    id: str
    amount: Money
    status: str  # pending, succeeded, failed, canceled
    payment_id: str | None = None
    created_at: datetime | None = None


InvoiceStatus = Literal["draft", "open", "paid", "void", "uncollectible"]
PaymentStatus = Literal["processing", "succeeded", "failed", "canceled"]


@dataclass(frozen=True)
class Invoice:
    """An invoice as a correction sees it: what it bills, what is still due, what paid it."""

    id: str
    number: str | None
    account_id: str
    status: InvoiceStatus  # Zuora's Posted with a balance is "open", Canceled is "void"
    total: Money
    balance: Money  # still due
    issued_on: date | None
    due_on: date | None
    subscription_id: str | None = None
    payment_ids: tuple[str, ...] = ()
    has_pdf: bool = True


@dataclass(frozen=True)
class Payment:
    """A payment and what has been refunded of it so far."""

    id: str
    account_id: str
    amount: Money
    refunded: Money
    status: PaymentStatus
    created_at: datetime | None
    invoice_ids: tuple[str, ...] = ()
    method_masked: str | None = None  # "card ****4242", "FR****0189": never more
    has_receipt: bool = False

    @property
    def refundable(self) -> Money:
        left = self.amount.amount_minor - self.refunded.amount_minor
        return Money(left if self.status == "succeeded" else 0, self.amount.currency)


@dataclass(frozen=True)
class ConnectedAccount:
    """A partner paid out through the platform (Stripe Connect)."""

    id: str
    legal_name: str | None  # the company's registered name: who a payout account must belong to
    trading_name: str | None  # the shop's name, which is not the holder of its bank account
    country: str | None
    default_currency: str | None


@dataclass(frozen=True)
class NewBankAccount:
    iban: str = field(repr=False)  # compact, validated; kept out of reprs and logs
    holder: str
    currency: str


@runtime_checkable
class Accounts(Protocol):
    async def find_account(self, lookup: AccountLookup) -> Account | None: ...


@runtime_checkable
class PaymentMethods(Protocol):
    async def list_payment_methods(self, account_id: str) -> Sequence[PaymentMethod]: ...

    async def create_sepa_payment_method(
        self,
        account_id: str,
        method: NewSepaMethod,
        *,
        idempotency_key: str,
        resumed: bool = True,  # False: no earlier attempt can exist, so skip any look-up first
    ) -> PaymentMethod: ...

    async def set_default_payment_method(
        self, account_id: str, payment_method_id: str, *, idempotency_key: str
    ) -> None: ...

    async def close_payment_method(
        self, payment_method_id: str, *, idempotency_key: str
    ) -> None: ...


@runtime_checkable
class Collections(Protocol):
    async def collections_in_flight(self, account_id: str) -> Sequence[Collection]: ...


@runtime_checkable
class Subscriptions(Protocol):
    async def active_subscription(self, account_id: str) -> Subscription | None: ...

    async def preview_quantity_change(self, change: QuantityChange) -> QuantityChangePreview: ...

    async def apply_quantity_change(
        self, change: QuantityChange, *, idempotency_key: str
    ) -> Subscription: ...

    async def cancel_subscription(
        self, subscription_id: str, effective_on: date, *, idempotency_key: str
    ) -> None: ...


@runtime_checkable
class Refunds(Protocol):
    async def refund_payment(
        self, payment_id: str, amount: Money, *, idempotency_key: str
    ) -> RefundResult: ...


@runtime_checkable
class BillingHistory(Protocol):
    """What a correction can act on: a customer's invoices, payments and refunds, newest
    first, and one of each by id (None when the provider has no such object)."""

    async def list_invoices(self, account_id: str, *, limit: int = 50) -> Sequence[Invoice]: ...

    async def get_invoice(self, invoice_id: str) -> Invoice | None: ...

    async def list_payments(self, account_id: str, *, limit: int = 50) -> Sequence[Payment]: ...

    async def get_payment(self, payment_id: str) -> Payment | None: ...

    async def list_refunds(self, account_id: str, *, limit: int = 50) -> Sequence[RefundResult]: ...

    async def list_subscriptions(self, account_id: str) -> Sequence[Subscription]: ...

    async def get_subscription(self, subscription_id: str) -> Subscription | None: ...


OfflinePaymentStatus = Literal["recorded", "reversed"]


@dataclass(frozen=True)
class NewOfflinePayment:
    """A payment made outside the provider (a cheque) to record there: against one open invoice,
    or, with no invoice, as a credit the account's next invoice uses."""

    account_id: str  # the provider's own id (Zuora account id, Stripe cus_...)
    invoice_id: str | None
    amount: Money  # in the invoice's (or the account's) currency, minor units
    reference: str  # the number printed on the cheque
    payment_number: str  # derived by the gateway, unique: the provider finds a repeat by it
    effective_on: date
    description: str  # "Cheque OP-20261205-0007", shown in the provider's console


@dataclass(frozen=True)
class OfflinePayment:
    """An offline payment as the provider holds it, read back after each write."""

    id: str  # Zuora's Payment id; Stripe's payment record (pr_...) or balance transaction
    account_id: str
    payment_number: str
    reference: str
    amount: Money
    invoice_id: str | None
    status: OfflinePaymentStatus
    # The invoice's status as the provider states it after the write ("paid", "open", ...):
    # a bounce says "open again" only when the provider does.
    invoice_status: InvoiceStatus | None = None


@runtime_checkable
class OfflinePayments(Protocol):
    async def record_offline_payment(
        self, payment: NewOfflinePayment, *, idempotency_key: str
    ) -> OfflinePayment:
        """Record it once: a repeat with the same payment number returns the first, creating
        nothing. Raises BillingError when the provider refuses (`invoice_not_open`, ...)."""
        ...

    async def find_offline_payment(
        self, account_id: str, payment_number: str
    ) -> OfflinePayment | None: ...

    async def reverse_offline_payment(
        self, account_id: str, payment_number: str, *, reason: str, idempotency_key: str
    ) -> OfflinePayment:
        """A bounced cheque: take the payment back, so that its invoice is due again (or the
        credit is withdrawn). Reversing a reversed payment returns it as it is."""
        ...


@runtime_checkable
class Receipts(Protocol):
    """A payment's receipt as the provider renders it (Stripe's receipt page)."""

    async def receipt(self, payment_id: str) -> tuple[bytes, str]: ...  # body, media type


@runtime_checkable
class InvoicePdfs(Protocol):
    async def invoice_pdf(self, invoice_id: str) -> bytes: ...


@dataclass(frozen=True)
class DocumentLinks:
    """Where the customer (or an agent) downloads an invoice and its receipt."""

    invoice_pdf: str | None
    hosted_invoice: str | None
    receipt: str | None


@runtime_checkable
class InvoiceLinks(Protocol):
    async def invoice_links(self, invoice_id: str) -> DocumentLinks: ...


@runtime_checkable
class InvoiceVoiding(Protocol):
    async def void_invoice(self, invoice_id: str, *, idempotency_key: str) -> None: ...


@dataclass(frozen=True)
class Payout:
    id: str
    amount: Money
    status: str  # paid, pending, in_transit, canceled, failed
    bank_account_id: str | None
    failure_code: str | None


@runtime_checkable
class PayoutAccounts(Protocol):
    """A partner's bank accounts for payouts ("Informations sur les virements")."""

    async def find_connected_account(self, lookup: AccountLookup) -> ConnectedAccount | None: ...

    async def list_payout_accounts(self, account_id: str) -> Sequence[PaymentMethod]: ...

    async def add_payout_account(
        self, account_id: str, bank: NewBankAccount, *, idempotency_key: str
    ) -> PaymentMethod: ...

    async def make_default_payout_account(
        self, account_id: str, bank_account_id: str, *, idempotency_key: str
    ) -> None: ...

    async def remove_payout_account(
        self, account_id: str, bank_account_id: str, *, idempotency_key: str
    ) -> None: ...

    async def recent_payouts(self, account_id: str) -> Sequence[Payout]: ...


@dataclass(frozen=True)
class PostalAddress:
    line1: str | None
    city: str | None
    postal_code: str | None
    country: str | None  # ISO 3166 alpha-2
    line2: str | None = None


@dataclass(frozen=True)
class Contact:
    """Who the provider bills: Zuora's bill-to contact, a Stripe customer's name, email and
    address. Compared with what a support agent verified before a bank-detail change."""

    name: str | None
    email: str | None
    address: PostalAddress | None


@runtime_checkable
class Contacts(Protocol):
    async def contact_of(self, account_id: str) -> Contact | None: ...


BlockedItemType = Literal[
    "card_fingerprint", "card_bin", "ip_address", "email", "sepa_debit_fingerprint"
]


@runtime_checkable
class BlocklistMirror(Protocol):
    """The provider's own copy of the gateway's fraud-stop lists (Stripe Radar value lists):
    one list per item type, items added and removed as the gateway's lists change."""

    async def ensure_block_list(self, item_type: BlockedItemType) -> str: ...

    async def add_blocked(
        self, item_type: BlockedItemType, value: str, *, idempotency_key: str
    ) -> None: ...

    async def remove_blocked(self, item_type: BlockedItemType, value: str) -> None: ...

    async def blocked_values(self, item_type: BlockedItemType) -> Sequence[str]: ...


PORT_OF_CAPABILITY: dict[Capability, type] = {
    Capability.ACCOUNTS: Accounts,
    Capability.PAYMENT_METHODS: PaymentMethods,
    Capability.COLLECTIONS: Collections,
    Capability.SUBSCRIPTIONS: Subscriptions,
    Capability.REFUNDS: Refunds,
    Capability.INVOICE_PDFS: InvoicePdfs,
    Capability.INVOICE_LINKS: InvoiceLinks,
    Capability.INVOICE_VOIDING: InvoiceVoiding,
    Capability.PAYOUT_ACCOUNTS: PayoutAccounts,
    Capability.BLOCKLIST_MIRROR: BlocklistMirror,
    Capability.CONTACTS: Contacts,
    Capability.BILLING_HISTORY: BillingHistory,
    Capability.RECEIPTS: Receipts,
    Capability.OFFLINE_PAYMENTS: OfflinePayments,
}


def capabilities_of(adapter: object) -> frozenset[Capability]:
    """What an adapter can do, read off the ports it implements."""
    return frozenset(
        capability for capability, port in PORT_OF_CAPABILITY.items() if isinstance(adapter, port)
    )


def next_bill_cycle_date(bill_cycle_day: int, after: date) -> date:
    """The first billing-cycle day strictly after `after`; a day past a month's end (31 in
    April) falls on that month's last day, as Zuora and Stripe both bill."""
    year, month = after.year, after.month
    while True:
        last = calendar.monthrange(year, month)[1]
        candidate = date(year, month, min(bill_cycle_day, last))
        if candidate > after:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
