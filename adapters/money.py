"""Money between the gateway's integer minor units and a provider's decimal amounts, by each
currency's ISO 4217 exponent (JPY 0, EUR 2, KWD 3): the only place that knows how many minor
units a major unit holds. Nothing here, or anywhere an amount passes, uses a float.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

# ISO 4217 currencies whose exponent is not 2 (those with 2 are listed below).
_EXPONENT_OF: dict[str, int] = {
    # no minor unit
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0,
    # three decimals
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    # four decimals
    "CLF": 4, "UYW": 4,
    # withdrawn, still on older invoices
    "BYR": 0,
}  # fmt: skip
# The other ISO 4217 currencies, all with two decimals (and a few withdrawn ones older
# invoices still carry); a code outside both lists is a typo, not money. Metals and units of
# account (XAU, XDR, XXX...) have no minor unit and are not money here.
_TWO_DECIMAL_CODES = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
    CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK
    LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO
    NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS
    SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST
    XCD XCG YER ZAR ZMW ZWG
    ANG CUC EEK HRK LTL LVL MRO SLL STD VEF ZWL
"""
_TWO_DECIMALS = frozenset(_TWO_DECIMAL_CODES.split())


class UnknownCurrencyError(ValueError):
    pass


def exponent_of(currency: str) -> int:
    """How many decimals the currency's minor unit has (ISO 4217)."""
    code = currency.strip().upper()
    if code in _EXPONENT_OF:
        return _EXPONENT_OF[code]
    if code in _TWO_DECIMALS:
        return 2
    raise UnknownCurrencyError(f"{currency!r} is not an ISO 4217 currency code")


def to_minor_units(amount: Any, currency: str) -> int:
    """A provider's decimal amount ("12.5", Decimal, int) as integer minor units; an amount
    finer than the currency's minor unit is rounded half to even, as banks do. A float is
    refused: it has already lost the amount (0.1 + 0.2 is not 0.3), so whoever read it must
    read a Decimal instead."""
    if isinstance(amount, float):
        raise TypeError(f"the amount {amount!r} is a float; read it as a Decimal")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except InvalidOperation:
        raise ValueError(f"{amount!r} is not an amount") from None
    scaled = value.scaleb(exponent_of(currency))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def from_minor_units(amount_minor: int, currency: str) -> Decimal:
    """Integer minor units as the exact decimal a provider expects (1234 EUR -> 12.34)."""
    exponent = exponent_of(currency)
    return Decimal(amount_minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def format_money(amount_minor: int, currency: str) -> str:
    """For people: "12.34 EUR", "1500 JPY", "1.250 KWD"."""
    return f"{from_minor_units(amount_minor, currency)} {currency.upper()}"
