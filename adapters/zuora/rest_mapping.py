"""Zuora REST answers to the neutral values of `adapters.ports`: masked data only, money in
minor units, charges named by their stable number."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from adapters.money import to_minor_units
from adapters.ports import (
    Account,
    Money,
    PaymentMethod,
    PaymentMethodKind,
    RecurringCharge,
    Subscription,
)
from adapters.zuora.pricing import rest_pricing
from adapters.zuora.terms import rest_term, with_term
from gateway.core.errors import BillingError


def rest_date(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def rest_datetime(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def rest_kind(method: dict[str, Any]) -> PaymentMethodKind:
    if method.get("type") == "SEPA":
        return "sepa_debit"
    if method.get("type") == "BankTransfer":
        return "sepa_debit" if method.get("bankTransferType") == "SEPA" else "bank_transfer"
    if method.get("type") in ("CreditCard", "DebitCard"):
        return "card"
    return "bank_transfer" if method.get("type") == "ACH" else "other"


def rest_masked(method: dict[str, Any]) -> str | None:
    """Country and last four: the country from the masked IBAN when Zuora leaves it showing,
    else the holder's; a card's last four ("card ****4242")."""
    card = str(method.get("cardNumber") or "")
    if card:
        return f"card ****{card[-4:]}"
    shown = str(method.get("IBAN") or method.get("accountNumber") or "")
    last4 = shown[-4:]
    holder_country = (method.get("accountHolderInfo") or {}).get("country")
    country = shown[:2] if shown[:2].isalpha() else str(holder_country or "??")[:2]
    return f"{country.upper()}****{last4}" if last4 else None


def from_rest_account(answer: dict[str, Any]) -> Account:
    basic, billing = answer["basicInfo"], answer["billingAndPayment"]
    return Account(
        id=str(basic["id"]),
        number=str(basic["accountNumber"]),
        name=str(basic["name"]),
        currency=str(billing["currency"]),
        bill_cycle_day=billing.get("billCycleDay"),
        default_payment_method_id=billing.get("defaultPaymentMethodId"),
        status=str(basic["status"]),
    )


def from_rest_payment_method(method: dict[str, Any], default: str | None) -> PaymentMethod:
    holder = method.get("accountHolderInfo") or {}
    mandate = method.get("mandateInfo") or {}
    created = method.get("createdDate")
    return PaymentMethod(
        id=str(method["id"]),
        kind=rest_kind(method),
        active=method.get("status") != "Closed",
        is_default=method["id"] == default,
        masked=rest_masked(method),
        holder=holder.get("accountHolderName"),
        # Zuora's list gives no bank name (the gateway derives it from the BIC or bank code).
        bic=method.get("businessIdentificationCode"),
        mandate_id=mandate.get("mandateId"),
        created_at=None if created is None else rest_datetime(created),
        bank_code=method.get("bankCode"),
    )


def rest_unit_price(charge: dict[str, Any]) -> Decimal:
    """`price`, or for a charge priced by tiers (`price` null) the price of the tier its
    quantity falls in, as Zuora's invoice items show it."""
    try:
        return rest_pricing(charge).unit_price(Decimal(str(charge.get("quantity") or 0)))
    except BillingError:  # a model the gateway does not price: keep what Zuora says
        return Decimal(str(charge.get("price") or 0))


def from_rest_subscription(record: dict[str, Any]) -> Subscription:
    currency = str(record.get("currency") or "EUR")
    charges = tuple(
        RecurringCharge(
            id=str(charge["number"]),
            name=str(charge["name"]),
            quantity=int(Decimal(str(charge.get("quantity") or 0))),
            unit_price=Money(to_minor_units(rest_unit_price(charge), currency), currency),
            billing_period=str(charge.get("billingPeriod")),
            effective_from=rest_date(charge.get("effectiveStartDate")),
        )
        for plan in record.get("ratePlans") or []
        for charge in plan.get("ratePlanCharges") or []
        if charge.get("type", "Recurring") == "Recurring"
    )
    subscription = Subscription(
        id=str(record["subscriptionNumber"]),
        account_id=str(record["accountId"]),
        status=str(record["status"]),
        version=int(record.get("version") or 1),
        charges=charges,
    )
    return with_term(subscription, rest_term(record))
