"""A step is recorded as done only when the provider shows what it asked for."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from adapters.ports import (
    Money,
    QuantityChange,
    QuantityChangePreview,
    RecurringCharge,
    Subscription,
)
from gateway.core.errors import BillingError, ErrorCode
from gateway.fulfilment.steps import StepCall, run_step


class ForgetfulSubscriptions:
    """Takes a seat change and answers with the subscription as it was (what a provider that
    lost the change, or an emulator that forgot it, would show)."""

    def __init__(self, shown_quantity: int) -> None:
        self.shown_quantity = shown_quantity

    async def active_subscription(self, account_id: str) -> Subscription | None:
        return None

    async def preview_quantity_change(self, change: QuantityChange) -> QuantityChangePreview:
        raise NotImplementedError

    async def apply_quantity_change(
        self, change: QuantityChange, *, idempotency_key: str
    ) -> Subscription:
        seats = RecurringCharge(
            "si_1", "Seats", self.shown_quantity, Money(2900, "EUR"), "month", change.effective_on
        )
        return Subscription(change.subscription_id, "cus_1", "active", 2, (seats,))

    async def cancel_subscription(
        self, subscription_id: str, effective_on: date, *, idempotency_key: str
    ) -> None:
        raise NotImplementedError


def seat_change(quantity: int) -> StepCall:
    inputs: dict[str, Any] = {
        "subscription_id": "sub_1",
        "charge_id": "si_1",
        "quantity": quantity,
        "quantity_before": 3,
        "effective_on": "2026-12-05",
        "proration": "create_prorations",
        "proration_date": None,
    }
    return StepCall("r-1", "stripe_subscription", "stripe", "change_quantity", inputs, "k-1", {})


def no_iban() -> str:
    raise AssertionError("a seat change never needs the IBAN")


async def test_a_seat_change_the_provider_shows_is_done() -> None:
    outcome = await run_step(ForgetfulSubscriptions(10), seat_change(10), no_iban)
    assert outcome.after["quantity"] == 10


async def test_a_seat_change_the_provider_does_not_show_is_never_done() -> None:
    with pytest.raises(BillingError) as refused:
        await run_step(ForgetfulSubscriptions(3), seat_change(10), no_iban)
    assert refused.value.code is ErrorCode.PROVIDER_REJECTED
    assert "still shows 3 seats instead of 10" in refused.value.detail
