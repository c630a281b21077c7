"""Hypothesis strategies for the sensitive values the gateway must never leak."""

from __future__ import annotations

from hypothesis import strategies as st
from schwifty import IBAN

# Bank codes schwifty knows, so that generated IBANs pass its national checks too.
_SEPA_BANKS = [
    ("DE", "12030000"),  # a bank whose check method accepts about one number in ten
    ("FR", "30006"),
    ("ES", "2100"),
    ("IT", "03069"),
    ("NL", "ABNA"),
    ("BE", "001"),
]


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country, bank = draw(st.sampled_from(_SEPA_BANKS))
    account = draw(st.integers(min_value=1, max_value=999_999))  # fits every listed country
    spaced = draw(st.booleans())
    iban = _with_national_check(country, bank, account)
    return iban.formatted if spaced else iban.compact


def _with_national_check(country: str, bank: str, account: int) -> IBAN:
    """The first account number from `account` on that the bank's own check accepts (a German
    bank's check method turns most numbers down; one in a few passes)."""
    for candidate in range(account, account + 1000):
        iban = IBAN.generate(country, bank_code=bank, account_code=str(candidate))
        try:
            return IBAN(iban.compact, validate_bban=True)
        except ValueError:
            continue
    raise AssertionError(f"no account near {account} passes {country} {bank}'s national check")


def _luhn_complete(digits: str) -> str:
    for check in "0123456789":
        candidate = digits + check
        total = 0
        for position, char in enumerate(reversed(candidate)):
            value = int(char)
            if position % 2 == 1:
                value = value * 2 - 9 if value > 4 else value * 2
            total += value
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    length = draw(st.sampled_from([13, 15, 16, 19]))
    prefix = draw(st.sampled_from(["4", "51", "55", "2221", "34", "37", "6011", "35"]))
    body = draw(
        st.text(
            alphabet="0123456789",
            min_size=length - 1 - len(prefix),
            max_size=length - 1 - len(prefix),
        )
    )
    return _luhn_complete(prefix + body)
