"""Amounts Stripe refuses on charges, refunds and PaymentIntents for their currency
(https://docs.stripe.com/currencies, "Three-decimal" and "Special cases"), in Stripe's units:

- ISK and UGX are two-decimal in Stripe's API but whole units in fact: the amount must be a
  multiple of 100 (`invalid_charge_amount_no_decimal_compatible`, Stripe's own code and words);
- BHD, JOD, KWD, OMR and TND: the last digit must be 0 (12340 for 12.340 KWD). Stripe's exact
  code for this refusal is not published; the emulator answers `invalid_charge_amount`.

Kept apart from `adapters/stripe/units.py` on purpose: the emulator plays Stripe, so it must not
share the adapter's idea of the rules it is there to check.
"""

from __future__ import annotations

from adapters.stripe.emulator.state import StripeError

_WHOLE_UNITS_ONLY = frozenset({"isk", "ugx"})
_LAST_DIGIT_ZERO = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def refuse_amount_stripe_refuses(amount: int, currency: str) -> None:
    code = currency.lower()
    if code in _WHOLE_UNITS_ONLY and amount % 100:
        raise StripeError(
            400,
            f"Invalid amount. Currency {code.upper()} has become effectively zero-decimal and "
            "charged amounts must be evenly divisible by 100. See "
            "https://stripe.com/docs/currencies#special-cases for more information.",
            code="invalid_charge_amount_no_decimal_compatible",
            param="amount",
        )
    if code in _LAST_DIGIT_ZERO and amount % 10:
        lower = amount - amount % 10
        raise StripeError(
            400,
            f"Invalid amount. Amounts in {code.upper()} must be rounded to the nearest ten "
            f"(the last digit must be 0), e.g. {lower} or {lower + 10}. See "
            "https://stripe.com/docs/currencies#three-decimal for more information.",
            code="invalid_charge_amount",
            param="amount",
        )
