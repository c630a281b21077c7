"""The emulator's Zuora tenant: accounts, payment methods, payments, refunds, invoices and
subscriptions (see `amendments.py` for how they change), with Zuora's rules.

One state serves both the SOAP and the REST faces, as one tenant would. Rules kept from Zuora:
an account's default payment method cannot be deleted or closed, a closed method cannot become
the default, an account's default is one of its own methods, sessions expire, ids are 32 hex
characters.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

ZObject = dict[str, Any]
SESSION_SECONDS = 8 * 3600
OBJECT_KINDS = (
    "Account",
    "Contact",
    "PaymentMethod",
    "Payment",
    "Refund",
    "Invoice",
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
        record["Id"] = new_id()
        table[record["Id"]] = record
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
        record.update(changes)
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
        record.setdefault("PaymentMethodStatus", "Active")
        record.setdefault("Active", True)

    def _check_new_refund(self, record: ZObject) -> None:
        payment = self._existing("Payment", record.get("PaymentId"))
        amount = Decimal(str(record.get("Amount") or 0))
        refunded = sum(
            (
                Decimal(str(refund["Amount"]))
                for refund in self.table("Refund").values()
                if refund.get("PaymentId") == payment["Id"]
            ),
            Decimal(0),
        )
        if amount <= 0 or amount + refunded > Decimal(str(payment["Amount"])):
            raise ZuoraError(
                "INVALID_VALUE",
                "The refund amount must be positive and at most the payment's unrefunded amount.",
                field_name="Amount",
            )
        if payment.get("Status") != "Processed":
            raise ZuoraError("INVALID_VALUE", "Only a processed payment can be refunded.")
        record["AccountId"] = payment["AccountId"]
        record["Status"] = "Processed"
        record["RefundNumber"] = f"R-{len(self.table('Refund')) + 1:08d}"
        record["RefundDate"] = date.today().isoformat()
