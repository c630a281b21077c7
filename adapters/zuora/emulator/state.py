"""The emulator's Zuora tenant: accounts, payment methods, payments, refunds, invoices and
subscriptions (see `amendments.py` for how they change), with Zuora's rules.

One state serves both the SOAP and the REST faces, as one tenant would. Rules kept from Zuora:
an account's default payment method cannot be deleted or closed, a closed method cannot become
the default, an account's default is one of its own methods, sessions expire, ids are 32 hex
characters; external payments (cheques) follow `external_payments.py`.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

from adapters.money import exponent_of
from adapters.zuora.emulator.callouts import announce

ZObject = dict[str, Any]
SESSION_SECONDS = 8 * 3600
OBJECT_KINDS = (
    "Account",
    "Contact",
    "PaymentMethod",
    "Payment",
    "Refund",
    "Invoice",
    "InvoiceItem",  # what an invoice bills, and for which subscription
    "InvoicePayment",  # how much of a payment went to an invoice
    "Subscription",
    "RatePlan",
    "RatePlanCharge",
    "RatePlanChargeTier",
    "Amendment",
    "PaymentRun",  # REST only (`/v1/payment-runs`), as on Zuora: SOAP has no such object
)


class ZuoraError(Exception):
    """A Zuora error code and message, raised as a SOAP fault or a failed SaveResult."""

    def __init__(self, code: str, message: str, *, field_name: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field_name = field_name


def new_id() -> str:
    return secrets.token_hex(16)


@dataclass
class Faults:
    """Switches for tests and demos; each counts down as it fires."""

    latency_seconds: float = 0.0  # every call waits this long first
    server_errors: int = 0  # the next N calls answer HTTP 503 and change nothing
    lock_competition: int = 0  # the next N calls fail with LOCK_COMPETITION, changing nothing
    slow_after_commit_seconds: float = 0.0  # the next write commits, then answers this late
    slow_after_commit: int = 0  # ... for this many writes
    rate_limit_per_second: float = 0.0  # above it: REST 429 + Retry-After, SOAP a fault; 0 off


@dataclass
class Tenant:
    username: str = "api@example.com"
    password: str = "emulator-password"  # noqa: S105 (the emulator's own, sandbox only)
    client_id: str = "emulator-client"
    client_secret: str = "emulator-secret"  # noqa: S105 (the emulator's own, sandbox only)
    session_seconds: int = SESSION_SECONDS
    objects: dict[str, dict[str, ZObject]] = field(
        default_factory=lambda: {kind: {} for kind in OBJECT_KINDS}
    )
    sessions: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)
    faults: Faults = field(default_factory=Faults)

    # -- sessions ----------------------------------------------------------------------------

    def login(self, username: str, password: str) -> str:
        if (username, password) != (self.username, self.password):
            raise ZuoraError("INVALID_LOGIN", "Invalid login. User name and password do not match.")
        token = secrets.token_urlsafe(24)
        self.sessions[token] = time.monotonic() + self.session_seconds
        return token

    def oauth_token(self, client_id: str, client_secret: str) -> str:
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            raise ZuoraError("INVALID_LOGIN", "Invalid client credentials.")
        return self.login(self.username, self.password)

    def check_session(self, token: str | None) -> None:
        expires = self.sessions.get(token or "")
        if expires is None or expires < time.monotonic():
            raise ZuoraError("INVALID_SESSION", "Invalid Session")

    def expire_sessions(self) -> None:
        self.sessions.clear()

    # -- objects -----------------------------------------------------------------------------

    def table(self, kind: str) -> dict[str, ZObject]:
        if kind not in self.objects:
            raise ZuoraError("INVALID_TYPE", f"invalid type for query: {kind}")
        return self.objects[kind]

    def create(self, kind: str, fields: ZObject) -> str:
        table = self.table(kind)
        record = {key: value for key, value in fields.items() if key != "Id"}
        if kind == "PaymentMethod":
            self._check_new_payment_method(record)
        if kind == "Refund":
            self._check_new_refund(record)
        if kind == "Payment":
            external_payments().check_new_payment(self, record)
        record["Id"] = new_id()
        table[record["Id"]] = record
        if kind == "Payment":
            external_payments().apply_new_payment(self, record)
        announce(self, kind, record)  # a callout, if this is an event
        return str(record["Id"])

    def update(self, kind: str, fields: ZObject) -> str:
        record = self._existing(kind, fields.get("Id"))
        changes = {key: value for key, value in fields.items() if key != "Id"}
        if kind == "Account" and "DefaultPaymentMethodId" in changes:
            method = self._existing("PaymentMethod", changes["DefaultPaymentMethodId"])
            if method.get("PaymentMethodStatus") == "Closed":
                raise ZuoraError(
                    "INVALID_VALUE", "A closed payment method cannot be the default one."
                )
            if method.get("AccountId") not in (None, record["Id"]):
                raise ZuoraError(
                    "INVALID_VALUE", "The payment method does not belong to this account."
                )
        if kind == "PaymentMethod" and changes.get("PaymentMethodStatus") == "Closed":
            self._refuse_if_default(record)
        if kind == "Invoice" and "Status" in changes:
            check_invoice_status(record, str(changes["Status"]))
        if kind == "Payment" and changes.get("Status") == "Canceled":
            external_payments().cancel_payment(self, record)
        record.update(changes)
        announce(self, kind, record)  # a callout, if this is an event
        return str(record["Id"])

    def delete(self, kind: str, object_id: str) -> None:
        record = self._existing(kind, object_id)
        if kind == "PaymentMethod":
            self._refuse_if_default(record)
        del self.table(kind)[object_id]

    def _existing(self, kind: str, object_id: Any) -> ZObject:
        record = self.table(kind).get(str(object_id or ""))
        if record is None:
            raise ZuoraError("INVALID_ID", f"invalid id for {kind}: {object_id}")
        return record

    def _refuse_if_default(self, method: ZObject) -> None:
        account = self.table("Account").get(str(method.get("AccountId")))
        if account and account.get("DefaultPaymentMethodId") == method["Id"]:
            raise ZuoraError(
                "CANNOT_DELETE",
                "The default payment method of an account cannot be deleted or closed.",
            )

    def _check_new_payment_method(self, record: ZObject) -> None:
        self._existing("Account", record.get("AccountId"))
        if record.get("Type") == "BankTransfer":
            if record.get("BankTransferType") != "SEPA" or not record.get("IBAN"):
                raise ZuoraError(
                    "MISSING_REQUIRED_VALUE", "A SEPA bank transfer method needs an IBAN."
                )
            iban = str(record.pop("IBAN")).replace(" ", "").upper()
            record["BankTransferAccountNumberMask"] = f"{'*' * (len(iban) - 4)}{iban[-4:]}"
            record["Country"] = record.get("Country") or iban[:2]
            # Zuora keeps the IBAN; the emulator only a digest of it (its tenant is written to
            # the sandbox's data folder, where no full IBAN may rest). Never returned by a query.
            record["_IBANDigest"] = hashlib.sha256(iban.encode()).hexdigest()
        if record.get("Type") == "CreditCard":
            # Only the mask is kept (as Zuora shows it): never a card number, even in a sandbox.
            number = str(record.pop("CreditCardNumber", "") or "").replace(" ", "")
            if len(number) < 12 and not record.get("CreditCardMaskNumber"):
                raise ZuoraError("INVALID_VALUE", "A credit card method needs a card number.")
            if number:
                record["CreditCardMaskNumber"] = f"{'*' * (len(number) - 4)}{number[-4:]}"
        record.setdefault("PaymentMethodStatus", "Active")
        record.setdefault("Active", True)

    def _check_new_refund(self, record: ZObject) -> None:
        """Zuora's rules: a processed payment, a positive amount, never beyond what is left
        of it. The refund is processed at once (an electronic refund through the gateway) and
        the payment's RefundAmount grows by it."""
        payment = self._existing("Payment", record.get("PaymentId"))
        amount = Decimal(str(record.get("Amount") or 0))
        refunded = max(
            Decimal(str(payment.get("RefundAmount") or 0)),
            sum(  # a state file kept before payments carried RefundAmount
                (
                    Decimal(str(refund["Amount"]))
                    for refund in self.table("Refund").values()
                    if refund.get("PaymentId") == payment["Id"]
                ),
                Decimal(0),
            ),
        )
        left = Decimal(str(payment["Amount"])) - refunded
        if amount <= 0 or amount > left:
            raise ZuoraError(
                "INVALID_VALUE",
                f"The refund amount must be positive and at most the payment's unrefunded "
                f"amount, {left}.",
                field_name="Amount",
            )
        if payment.get("Status") != "Processed":
            raise ZuoraError("INVALID_VALUE", "Only a processed payment can be refunded.")
        account = self.table("Account").get(str(payment["AccountId"])) or {}
        currency = str(account.get("Currency") or "EUR")
        if amount != amount.quantize(Decimal(1).scaleb(-exponent_of(currency))):
            raise ZuoraError(
                "INVALID_VALUE",
                f"The refund amount {amount} has more decimals than {currency} allows.",
                field_name="Amount",
            )
        record["AccountId"] = payment["AccountId"]
        record["Status"] = "Processed"  # the refund is processed here (callouts: RefundProcessed)
        record["RefundNumber"] = f"R-{len(self.table('Refund')) + 1:08d}"
        record["RefundDate"] = date.today().isoformat()
        record["CreatedDate"] = now_text()
        record.setdefault("PaymentMethodId", payment.get("PaymentMethodId"))
        payment["RefundAmount"] = str(refunded + amount)


def external_payments() -> ModuleType:
    """The rules for payments made outside Zuora (they read the tenant: imported late)."""
    from adapters.zuora.emulator import external_payments as rules

    return rules


def now_text() -> str:
    """A Zuora dateTime, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def check_invoice_status(invoice: ZObject, status: str) -> None:
    """Zuora's invoice life: Draft -> Posted; a posted invoice goes back to Draft (unposted)
    only while nothing has been paid or credited on it (its balance is its amount); only a
    draft can be Canceled; a canceled invoice stays canceled."""
    current = invoice.get("Status")
    if status == current:
        return
    if current == "Canceled":
        raise ZuoraError("INVALID_VALUE", "The invoice is canceled and cannot change status.")
    if status == "Draft" and current == "Posted":
        balance = Decimal(str(invoice.get("Balance", invoice.get("Amount")) or 0))
        if balance != Decimal(str(invoice.get("Amount") or 0)):
            raise ZuoraError(
                "INVALID_VALUE",
                "The invoice has payments or credits applied and cannot be unposted.",
            )
        return
    if status == "Canceled" and current == "Draft":
        invoice["Balance"] = "0"
        return
    if status == "Posted" and current == "Draft":
        return
    raise ZuoraError(
        "INVALID_VALUE",
        f"An invoice cannot go from {current} to {status}"
        + (": unpost it (Draft) first." if status == "Canceled" else "."),
    )
