"""Zuora objects to the provider-neutral values of `adapters.ports`, and back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from adapters.ports import (
    Account,
    Collection,
    Money,
    PaymentMethod,
    PaymentMethodKind,
    RecurringCharge,
    RefundResult,
)

PAYMENT_METHOD_FIELDS = (
    "Id, AccountId, Type, BankTransferType, BankTransferAccountNumberMask, "
    "BankTransferAccountName, BankName, BusinessIdentificationCode, Country, MandateID, "
    "PaymentMethodStatus, CreatedDate"
)
ACCOUNT_FIELDS = "Id, AccountNumber, Name, Currency, BillCycleDay, DefaultPaymentMethodId, Status"
PAYMENT_FIELDS = "Id, AccountId, Amount, Status, PaymentMethodId, EffectiveDate"
SUBSCRIPTION_FIELDS = "Id, Name, AccountId, Status, Version"
CHARGE_FIELDS = (
    "Id, RatePlanId, Name, ChargeNumber, Quantity, Price, BillingPeriod, "
    "ProductRatePlanChargeId, EffectiveStartDate"
)
REFUND_FIELDS = "Id, AccountId, Amount, Status, RefundNumber"
IN_FLIGHT_STATUSES = ("Processing",)


def to_minor_units(amount: Any) -> int:
    """Zuora's decimals to integer minor units. Two decimals: the euro, the only currency the
    tier table uses; a zero-decimal currency would need its exponent here."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1)))


def to_decimal(amount_minor: int) -> Decimal:
    return Decimal(amount_minor) / 100


def monthly_total(charges: Any) -> int:
    """Minor units per month of monthly charges: quantity times unit price."""
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


def from_zuora_payment(record: Any, currency: str) -> Collection:
    effective = record.EffectiveDate
    return Collection(
        id=str(record.Id),
        amount=Money(to_minor_units(record.Amount), currency),
        status=str(record.Status),
        payment_method_id=record.PaymentMethodId,
        effective_on=effective if isinstance(effective, date) else None,
    )


def zoql_text(value: str) -> str:
    """A value inside single quotes in ZOQL."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def from_zuora_charge(record: Any, currency: str) -> RecurringCharge:
    return RecurringCharge(
        id=str(record.ChargeNumber),
        name=str(record.Name),
        quantity=int(Decimal(str(record.Quantity or 0))),
        unit_price=Money(to_minor_units(record.Price or 0), currency),
        billing_period=str(record.BillingPeriod),
        effective_from=_date(record.EffectiveStartDate),
    )


def from_zuora_refund(record: Any, currency: str) -> RefundResult:
    return RefundResult(
        id=str(record.Id),
        amount=Money(to_minor_units(record.Amount), currency),
        status=str(record.Status),
    )
