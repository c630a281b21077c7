"""Stripe objects to the neutral values of `adapters.ports`: masked, minor units as Stripe
already counts them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.ports import Account, PaymentMethod, PaymentMethodKind

_KINDS: dict[str, PaymentMethodKind] = {"sepa_debit": "sepa_debit", "card": "card"}


def plain(stripe_object: Any) -> dict[str, Any]:
    """stripe-python 16's objects are not dicts: read them as the JSON Stripe sent."""
    if hasattr(stripe_object, "to_dict"):
        return dict(stripe_object.to_dict())
    return dict(stripe_object)


def from_stripe_customer(stripe_customer: Any) -> Account:
    customer = plain(stripe_customer)
    settings = customer.get("invoice_settings") or {}
    return Account(
        id=str(customer["id"]),
        number=str(customer["id"]),
        name=str(customer.get("name") or customer.get("email") or customer["id"]),
        currency=str(customer.get("currency") or "eur").upper(),
        bill_cycle_day=None,  # Stripe bills each subscription on its own anchor
        default_payment_method_id=settings.get("default_payment_method"),
        status="deleted" if customer.get("deleted") else "active",
    )


def from_stripe_payment_method(stripe_method: Any, default_id: str | None) -> PaymentMethod:
    method = plain(stripe_method)
    kind = str(method["type"])
    details = method.get(kind) or {}
    billing = method.get("billing_details") or {}
    masked = None
    if kind == "sepa_debit":
        masked = f"{details.get('country', '??')}****{details.get('last4', '')}"
    elif kind == "card":
        masked = f"card ****{details.get('last4', '')}"
    return PaymentMethod(
        id=str(method["id"]),
        kind=_KINDS.get(kind, "other"),
        active=method.get("customer") is not None,
        is_default=method["id"] == default_id,
        masked=masked,
        holder=billing.get("name"),
        bank_name=None,
        bic=None,
        mandate_id=None,
        created_at=datetime.fromtimestamp(int(method["created"]), UTC),
        bank_code=details.get("bank_code"),
        fingerprint=details.get("fingerprint"),
    )
