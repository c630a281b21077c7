"""Zuora objects to the provider-neutral values of `adapters.ports`, and back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from adapters.money import to_minor_units
from adapters.ports import (
    Account,
    Collection,
    Contact,
    Money,
    PaymentMethod,
    PaymentMethodKind,
    PostalAddress,
    RecurringCharge,
    RefundResult,
)

PAYMENT_METHOD_FIELDS = (
    "Id, AccountId, Type, BankTransferType, BankTransferAccountNumberMask, "
    "BankTransferAccountName, BankName, BusinessIdentificationCode, Country, MandateID, "
    "PaymentMethodStatus, CreatedDate, CreditCardMaskNumber"
)
ACCOUNT_FIELDS = "Id, AccountNumber, Name, Currency, BillCycleDay, DefaultPaymentMethodId, Status"
PAYMENT_FIELDS = (
    "Id, AccountId, Amount, Status, GatewayState, PaymentMethodId, EffectiveDate, Source, "
    "SourceName"
)
# With the term and the charges' billing timing: the period paid for (`adapters.zuora.terms`).
SUBSCRIPTION_FIELDS = (
    "Id, Name, AccountId, Status, Version, TermType, TermStartDate, TermEndDate, CurrentTerm, "
    "CurrentTermPeriodType"
)
CHARGE_FIELDS = (
    "Id, RatePlanId, Name, ChargeNumber, ChargeModel, Quantity, Price, MRR, BillingPeriod, "
    "ProductRatePlanChargeId, EffectiveStartDate, BillingTiming, ProcessedThroughDate, "
    "ChargedThroughDate"
)
TIER_FIELDS = "Id, RatePlanChargeId, Tier, StartingUnit, EndingUnit, Price, PriceFormat"
REFUND_FIELDS = "Id, AccountId, Amount, Status, RefundNumber"
CONTACT_FIELDS = (
    "Id, FirstName, LastName, WorkEmail, PersonalEmail, Address1, Address2, City, PostalCode, "
    "Country"
)
# A direct debit sent to the bank and not yet answered: Zuora's payment gateway state (the
# payment's Status says Processed or Processing whatever the bank later does).
SUBMITTED = "Submitted"


def monthly_total(charges: Any) -> int:
    """Minor units per month of monthly charges priced per unit: quantity times unit price
    (a charge priced by tiers is not; `adapters.zuora.pricing` prices both)."""
    return sum(
        charge.quantity * charge.unit_price.amount_minor
        for charge in charges
        if charge.billing_period == "Month"
    )


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _kind(record: Any) -> PaymentMethodKind:
    if record.Type == "BankTransfer" and record.BankTransferType == "SEPA":
        return "sepa_debit"
    if record.Type == "CreditCard":
        return "card"
    if record.Type in ("ACH", "BankTransfer"):
        return "bank_transfer"
    return "other"


def _masked(record: Any) -> str | None:
    card = getattr(record, "CreditCardMaskNumber", None) or ""
    if card:
        return f"card ****{card[-4:]}"
    last4 = (record.BankTransferAccountNumberMask or "")[-4:]
    if last4:
        return f"{(record.Country or '??')[:2].upper()}****{last4}"
    return None


def from_zuora_payment_method(record: Any, default_id: str | None) -> PaymentMethod:
    return PaymentMethod(
        id=str(record.Id),
        kind=_kind(record),
        active=record.PaymentMethodStatus != "Closed",
        is_default=record.Id == default_id,
        masked=_masked(record),
        holder=record.BankTransferAccountName,
        bank_name=record.BankName,
        bic=record.BusinessIdentificationCode,
        mandate_id=record.MandateID,
        created_at=record.CreatedDate,
    )


def from_zuora_account(record: Any) -> Account:
    return Account(
        id=str(record.Id),
        number=str(record.AccountNumber),
        name=str(record.Name),
        currency=str(record.Currency),
        bill_cycle_day=int(record.BillCycleDay) if record.BillCycleDay is not None else None,
        default_payment_method_id=record.DefaultPaymentMethodId,
        status=str(record.Status),
    )


def from_zuora_payment(record: Any, currency: str, method_masked: str | None) -> Collection:
    """A payment whose debit is in flight; its status names the gateway state and, when a
    payment run made it, the run (SOAP has no PaymentRun object, only the payment's source)."""
    status = str(getattr(record, "GatewayState", None) or SUBMITTED)
    if getattr(record, "Source", None) == "PaymentRun" and getattr(record, "SourceName", None):
        status = f"{status} (payment run {record.SourceName})"
    return Collection(
        id=str(record.Id),
        amount=Money(to_minor_units(record.Amount, currency), currency),
        status=status,
        payment_method_id=record.PaymentMethodId,
        effective_on=_date(record.EffectiveDate),
        method_masked=method_masked,
    )


def from_zuora_contact(field: Any) -> Contact:
    """A bill-to contact from a ZOQL record; `field(name)` reads one field of it (REST records
    are dicts, SOAP's zObjects), None when Zuora left it out."""
    name = " ".join(str(part) for part in (field("FirstName"), field("LastName")) if part)
    email = field("WorkEmail") or field("PersonalEmail")
    parts = {name: field(name) for name in ("Address1", "Address2", "City", "PostalCode")}
    country = field("Country")
    # Zuora keeps a country's name or ISO code; only a two-letter code is ISO 3166 alpha-2.
    alpha2 = str(country).upper() if country and len(str(country)) == 2 else None
    address = None
    if any(parts.values()) or alpha2:
        address = PostalAddress(
            line1=parts["Address1"],
            city=parts["City"],
            postal_code=parts["PostalCode"],
            country=alpha2,
            line2=parts["Address2"],
        )
    return Contact(name=name or None, email=email, address=address)


def refund_comment(marker: str) -> str:
    """The comment a refund carries, which finds it again: Zuora keeps a refund's `Comment`
    (255 characters) for the client's own words, and a ZOQL query can filter on it."""
    return f"Refunded through billing-gateway, ref {marker}"


def zoql_text(value: str) -> str:
    """A value inside single quotes in ZOQL."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def from_zuora_charge(
    record: Any, currency: str, unit_price: Decimal | None = None
) -> RecurringCharge:
    """`unit_price`: for a tiered charge, the price of its tier (it has no `Price`)."""
    price = record.Price if unit_price is None else unit_price
    return RecurringCharge(
        id=str(record.ChargeNumber),
        name=str(record.Name),
        quantity=int(Decimal(str(record.Quantity or 0))),
        unit_price=Money(to_minor_units(price or 0, currency), currency),
        billing_period=str(record.BillingPeriod),
        effective_from=_date(record.EffectiveStartDate),
    )


def from_zuora_refund(record: Any, currency: str) -> RefundResult:
    return RefundResult(
        id=str(record.Id),
        amount=Money(to_minor_units(record.Amount, currency), currency),
        status=str(record.Status),
    )
