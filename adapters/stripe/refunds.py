"""The Stripe adapter's refunds: exactly once per idempotency key, never more than is left on
the payment's charge. Mixed into StripeAdapter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from adapters.money import format_money
from adapters.ports import Money, RefundResult
from adapters.stripe.calls import under_key
from adapters.stripe.client import derived_key
from adapters.stripe.mapping import plain
from adapters.stripe.records import from_stripe_refund
from adapters.stripe.units import check_stripe_amount, from_stripe_amount, to_stripe_amount
from gateway.core.errors import BillingError, ErrorCode


def _check_refund(payment_id: str, charge: dict[str, Any], amount: Money) -> None:
    """Only a succeeded charge, in its own currency, for no more than is left on it, in an
    amount Stripe takes. The charge's amounts are read in ISO minor units, like `amount`."""
    currency = str(charge["currency"]).upper()
    if charge.get("status") != "succeeded":
        raise BillingError(
            ErrorCode.PAYMENT_NOT_REFUNDABLE,
            f"The payment {payment_id} has not succeeded (it is {charge.get('status')}); "
            "only a succeeded payment can be refunded.",
        )
    if amount.currency.upper() != currency:
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            f"The payment {payment_id} was made in {currency}; refund it in {currency}.",
        )
    if amount.amount_minor < 1:
        raise BillingError(ErrorCode.VALIDATION_FAILED, "A refund must be at least 1 minor unit.")
    paid = from_stripe_amount(int(charge["amount"]), currency).amount_minor
    refunded = from_stripe_amount(int(charge.get("amount_refunded") or 0), currency).amount_minor
    left = paid - refunded
    if amount.amount_minor > left:
        raise BillingError(
            ErrorCode.REFUND_EXCEEDS_PAYMENT,
            f"Only {format_money(left, currency)} is left to refund on the payment "
            f"{payment_id} ({format_money(paid, currency)} paid, "
            f"{format_money(refunded, currency)} refunded already); "
            f"{format_money(amount.amount_minor, currency)} is more than that.",
            extra={"refundable": {"amount_minor": left, "currency": currency}},
        )
    check_stripe_amount(Money(amount.amount_minor, currency), action="refund")


class StripeRefunds:
    _stripe: Any
    _call: Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]

    @under_key
    async def refund_payment(
        self, payment_id: str, amount: Money, *, idempotency_key: str
    ) -> RefundResult:
        """Exactly once per key: a refund made under the key before (found by its metadata,
        whatever is left now) is the answer to a repeat; the create carries the key too."""
        step = "refunding the payment"
        intent = plain(
            await self._call(step, lambda: self._stripe.payment_intents.retrieve_async(payment_id))
        )
        latest = intent.get("latest_charge")
        if not latest:
            raise BillingError(
                ErrorCode.PAYMENT_NOT_REFUNDABLE,
                f"The payment {payment_id} was never charged, so there is nothing to refund.",
            )
        # An id, or the charge itself where the server expands it (as with `expand`).
        charge = (
            latest
            if isinstance(latest, dict)
            else plain(
                await self._call(step, lambda: self._stripe.charges.retrieve_async(str(latest)))
            )
        )
        key = derived_key(idempotency_key, "refund")
        earlier = await self._refund_made_with(payment_id, key)
        if earlier is not None:
            return earlier  # a repeat: what was refunded then, not a second refund
        _check_refund(payment_id, charge, amount)
        refund = plain(
            await self._call(
                step,
                lambda: self._stripe.refunds.create_async(
                    params={
                        "payment_intent": payment_id,
                        "amount": to_stripe_amount(amount, action="refund"),
                        "metadata": {"gateway_key": key},
                    },
                    options={"idempotency_key": key},
                ),
            )
        )
        return from_stripe_refund(refund)

    async def _refund_made_with(self, payment_id: str, key: str) -> RefundResult | None:
        refunds = await self._call(
            "looking for an earlier refund",
            lambda: self._stripe.refunds.list_async(
                params={"payment_intent": payment_id, "limit": 100}
            ),
        )
        for refund in refunds.data:
            if (plain(refund).get("metadata") or {}).get("gateway_key") == key:
                return from_stripe_refund(plain(refund))
        return None
