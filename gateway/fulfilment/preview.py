"""The bound price preview of a plan change: asked of the provider, named by a hash of what it
says, so that Apply runs exactly what the specialist was shown (`preview_changed` otherwise).

The change previewed is the one Apply makes: the seat charge set to the target tier's
`max_seats`; Zuora on the customer's next billing-cycle day (nothing is prorated there);
Stripe today, with `create_prorations` at a proration date fixed to the start of that day (UTC),
the date the Stripe adapter prorates at unless the current period began later that day.
"""

from __future__ import annotations

import calendar
import hashlib
from datetime import date
from typing import Any

import msgspec

from adapters.ports import (
    Account,
    Proration,
    QuantityChange,
    RecurringCharge,
    Subscription,
    Subscriptions,
    next_bill_cycle_date,
)
from gateway.fulfilment_schemas import PlanPreview


def seat_charge(subscription: Subscription) -> RecurringCharge | None:
    """The recurring charge whose quantity is the seat count: the one named for seats, or the
    only charge."""
    seats = [charge for charge in subscription.charges if "seat" in charge.name.lower()]
    if len(seats) == 1:
        return seats[0]
    return subscription.charges[0] if len(subscription.charges) == 1 else None


def change_for(
    provider: str,
    account: Account,
    subscription: Subscription,
    charge: RecurringCharge,
    quantity: int,
    today: date,
) -> tuple[QuantityChange, int | None]:
    """The quantity change Apply makes, and Stripe's proration date (None for Zuora)."""
    if provider == "zuora":
        day = account.bill_cycle_day or today.day
        effective = next_bill_cycle_date(day, today)
        proration: Proration = "none"
        proration_date = None
    else:
        effective = today
        proration = "create_prorations"
        proration_date = calendar.timegm(today.timetuple())
    change = QuantityChange(
        subscription_id=subscription.id,
        charge_id=charge.id,
        quantity=quantity,
        effective_on=effective,
        proration=proration,
        proration_date=proration_date,
    )
    return change, proration_date


def preview_id(content: dict[str, Any]) -> str:
    """sha256 (first 32 hex digits) of the preview's canonical JSON, without its id."""
    canonical = {key: value for key, value in sorted(content.items()) if key != "id"}
    return hashlib.sha256(msgspec.json.encode(canonical)).hexdigest()[:32]


async def bound_preview(
    adapter: Subscriptions,
    provider: str,
    change: QuantityChange,
    proration_date: int | None,
    *,
    current_tier: str,
    target_tier: str,
    quantity_before: int,
) -> PlanPreview:
    """The provider's own preview of `change`, with its stable id."""
    answer = await adapter.preview_quantity_change(change)
    content: dict[str, Any] = {
        "provider": provider,
        "subscription_id": change.subscription_id,
        "charge_id": change.charge_id,
        "current_tier": current_tier,
        "target_tier": target_tier,
        "quantity_before": quantity_before,
        "quantity_after": change.quantity,
        "effective_on": answer.effective_on,
        "proration": answer.proration or change.proration,
        # The moment the provider prorated to, where it says (Stripe moves it to the period's
        # start when the period began later that day); Apply sends this same value.
        "proration_date": answer.proration_date or proration_date,
        "recurring_before_minor": answer.recurring_before.amount_minor,
        "recurring_after_minor": answer.recurring_after.amount_minor,
        "next_invoice_minor": answer.next_invoice.amount_minor,
        "currency": answer.next_invoice.currency,
    }
    content["id"] = preview_id(msgspec.to_builtins(content))
    return msgspec.convert(content, PlanPreview)
