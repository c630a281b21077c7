"""Stripe's amount units against the gateway's ISO 4217 minor units. Stripe takes and gives every
amount as an integer in "the currency's smallest unit", which is the ISO 4217 exponent for all
but a few currencies (https://docs.stripe.com/currencies, "Zero-decimal", "Three-decimal",
"Special cases"). Everything the adapter reads is converted here once, as it arrives, and
everything it sends is converted here last; the rest of the gateway sees ISO minor units only.

Where Stripe differs from ISO 4217:
- ISK and UGX: no minor unit in ISO (exponent 0), but Stripe keeps them two-decimal in its API
  for backwards compatibility: 5 ISK is `500`, and Stripe refuses an amount that is not a
  multiple of 100 (`invalid_charge_amount_no_decimal_compatible`). Sent from whole units they
  are multiples of 100 by construction; an older fractional amount read back is rounded half
  to even to the whole unit.
- MGA: two decimals in ISO, zero-decimal at Stripe: 5 MGA is `5` at Stripe and 500 here; an
  amount in fractions of an ariary cannot be sent and is refused.
- BHD, JOD, KWD, OMR, TND: three decimals in both, but Stripe's partners need the last digit of
  a charge or refund to be 0 (12.340 KWD is `12340`; `12345` is refused), so such an amount is
  refused here with the nearest amounts Stripe takes. Stripe does not take IQD or LYD.

Not differences, by decision: HUF and TWD are two-decimal in both for charges and refunds;
Stripe only wants whole units for their *payouts*, which the gateway reads and never creates.
The other zero-decimal currencies (JPY, KRW, CLP, VND, XOF...) are zero-decimal in both.

Integer arithmetic only: a float never holds an amount here.
"""

from __future__ import annotations

from adapters.money import exponent_of, format_money, from_minor_units
from adapters.ports import Money
from gateway.core.errors import BillingError, ErrorCode

# Stripe's exponent where it is not the ISO 4217 one.
_STRIPE_EXPONENT: dict[str, int] = {"ISK": 2, "UGX": 2, "MGA": 0}
# Three-decimal currencies Stripe takes in steps of 10 of the minor unit (last digit 0).
_STEPS_OF_TEN = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def stripe_exponent(currency: str) -> int:
    """How many decimals Stripe's API gives the currency (ISK 2, MGA 0, KWD 3)."""
    code = currency.strip().upper()
    return _STRIPE_EXPONENT.get(code, exponent_of(code))


def _ten_to(power: int) -> int:
    return int(10**power)  # an int for a power >= 0; the int() only tells the type checker


def _divide_half_even(amount: int, divisor: int) -> int:
    """amount / divisor rounded half to even, in integers."""
    quotient, rest = divmod(amount, divisor)
    if rest * 2 > divisor or (rest * 2 == divisor and quotient % 2 == 1):
        quotient += 1
    return quotient


def from_stripe_amount(amount: int, currency: str) -> Money:
    """An amount as Stripe gives it, as Money in ISO minor units (upper-case currency):
    ISK `500` -> 5 ISK, MGA `5` -> 500 (5.00 MGA), KWD `12340` -> 12340 (12.340 KWD)."""
    code = currency.strip().upper()
    shift = exponent_of(code) - stripe_exponent(code)
    if shift >= 0:
        return Money(int(amount) * _ten_to(shift), code)
    return Money(_divide_half_even(int(amount), _ten_to(-shift)), code)


def stripe_step(currency: str) -> int:
    """The smallest amount Stripe takes in the currency, in ISO minor units: 10 for KWD (0.010),
    100 for MGA (1 ariary), 1 for EUR, JPY or ISK."""
    code = currency.strip().upper()
    shift = exponent_of(code) - stripe_exponent(code)
    return 10 if code in _STEPS_OF_TEN else _ten_to(shift) if shift > 0 else 1


def check_stripe_amount(money: Money, *, action: str = "charge") -> None:
    """Refuse an amount Stripe would refuse for its currency, naming the amounts it takes;
    `action` is the verb of the suggestion ("refund 12.340 or 12.350 KWD")."""
    code = money.currency.strip().upper()
    step = stripe_step(code)
    if money.amount_minor % step == 0:
        return
    lower = money.amount_minor - money.amount_minor % step
    unit = format_money(step, code)
    raise BillingError(
        ErrorCode.VALIDATION_FAILED,
        f"Stripe takes {code} amounts in steps of {unit}: {action} "
        f"{from_minor_units(lower, code)} or {format_money(lower + step, code)} "
        f"instead of {format_money(money.amount_minor, code)}.",
        extra={"field": "amount_minor"},
    )


def to_stripe_amount(money: Money, *, action: str = "charge") -> int:
    """Money in ISO minor units as the integer Stripe's API takes (5 ISK -> `500`, 5.00 MGA ->
    `5`); an amount Stripe would refuse is refused here first (see `check_stripe_amount`)."""
    check_stripe_amount(money, action=action)
    code = money.currency.strip().upper()
    shift = exponent_of(code) - stripe_exponent(code)
    if shift >= 0:
        return money.amount_minor // _ten_to(shift)  # exact: checked to be a multiple above
    return money.amount_minor * _ten_to(-shift)
