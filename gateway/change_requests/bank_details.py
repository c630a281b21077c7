"""Validate an IBAN (and optional BIC) the way a careful specialist would, with schwifty."""

from __future__ import annotations

import re
from dataclasses import dataclass

from schwifty import BIC, IBAN
from schwifty.exceptions import InvalidCountryCode, SchwiftyException
from schwifty.registry import get_iban_spec

from gateway.errors import BillingError, ErrorCode
from gateway.sensitive import iban_checksum_ok, mask_iban

_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]+$")


@dataclass(frozen=True)
class ValidatedIban:
    compact: str  # the full IBAN: encrypt it, never show or log it
    masked: str
    country: str
    bic: str | None
    bank_name: str | None


def _structure(compact: str) -> None:
    if not _SHAPE.match(compact):
        raise BillingError(
            ErrorCode.IBAN_INVALID,
            "An IBAN is two letters, two check digits, then letters and digits only; "
            "check what the customer sent.",
        )


def _country_and_length(compact: str) -> bool:
    """Check the country and its IBAN length; returns whether the country is in SEPA."""
    country = compact[:2]
    try:
        spec = get_iban_spec(country)
    except InvalidCountryCode:
        raise BillingError(
            ErrorCode.IBAN_UNKNOWN_COUNTRY,
            f"'{country}' is not a country that issues IBANs; check the first two letters.",
        ) from None
    if len(compact) != spec.iban_length:
        raise BillingError(
            ErrorCode.IBAN_WRONG_LENGTH,
            f"An IBAN from {country} has {spec.iban_length} characters; this one has "
            f"{len(compact)}. A character is missing or extra.",
        )
    return bool(spec.in_sepa_zone)


def _bic(given: str | None, iban: IBAN) -> str | None:
    derived = iban.bic
    if given is None:
        return str(derived) if derived else None
    try:
        bic = BIC(given.replace(" ", "").upper())
    except SchwiftyException:
        raise BillingError(
            ErrorCode.BIC_INVALID, "The BIC is not a valid SWIFT/BIC code."
        ) from None
    if bic.country_code != iban.country_code or (derived and bic.bank_code != derived.bank_code):
        expected = f" (the IBAN's bank is {derived.bank_code})" if derived else ""
        raise BillingError(
            ErrorCode.BIC_MISMATCH,
            f"The BIC does not belong to the IBAN's bank{expected}; leave the BIC out to use "
            "the one derived from the IBAN, or ask the customer to check it.",
        )
    return str(bic)


def compact_iban(raw: str) -> str:
    """The IBAN without the spaces and dashes people write it with: what is hashed and stored."""
    return re.sub(r"[\s-]", "", raw).upper()


def validate_iban(raw: str, given_bic: str | None) -> ValidatedIban:
    compact = compact_iban(raw)
    _structure(compact)
    in_sepa = _country_and_length(compact)
    if not iban_checksum_ok(compact):
        raise BillingError(
            ErrorCode.IBAN_CHECKSUM_FAILED,
            "The IBAN's check digits do not match the rest: a character was probably mistyped. "
            "Ask the customer to re-read it from their bank statement.",
        )
    try:
        iban = IBAN(compact)
    except SchwiftyException:
        raise BillingError(
            ErrorCode.IBAN_INVALID,
            "The IBAN's bank or account part is not valid for its country (national check "
            "failed); ask the customer to re-read it.",
        ) from None
    if not in_sepa:
        raise BillingError(
            ErrorCode.IBAN_NOT_SEPA,
            f"Accounts in {compact[:2]} are outside the SEPA zone, so SEPA direct debit and "
            "payouts cannot use them. Ask the customer for an account in a SEPA country.",
        )
    return ValidatedIban(
        compact=compact,
        masked=mask_iban(compact),
        country=compact[:2],
        bic=_bic(given_bic, iban),
        bank_name=iban.bank_name,
    )
