"""Validate an IBAN (and optional BIC) the way a careful specialist would, with schwifty.

Checks run from the coarsest to the finest, so that the refusal names the first thing wrong: the
shape, the country and its length, the ISO 13616 check digits, the country's BBAN layout, the
bank's own (national) check digits, SEPA reach, and finally whether a given BIC is the bank's.
Beneath change requests (which file IBANs) and fraud (which blocks them).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from schwifty import BBAN, BIC, IBAN
from schwifty.domain import Component
from schwifty.exceptions import (
    InvalidBBANChecksum,
    InvalidChecksumDigits,
    InvalidCountryCode,
    NationalChecksumNotVerified,
    SchwiftyException,
)
from schwifty.registry import get_iban_spec

from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import (
    iban_checksum_ok,
    mask_iban,
    without_printed_separator,
    without_separators,
)
from gateway.sepa_scope import in_sepa

_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]+$")
# What people put between the groups of an IBAN (the set gateway/core/sensitive.py finds IBANs by).
_SEPARATORS = re.compile(r"[\s.\-/]")
# Territories that issue IBANs under their own two letters in their state's national format
# (SWIFT IBAN Registry, entries for France and Finland): their national check digits are the
# state's, which schwifty registers under the state's code only.
_NATIONAL_FORMAT_OF = dict.fromkeys(
    ("GF", "GP", "MQ", "RE", "YT", "BL", "MF", "PM", "NC", "PF", "WF", "TF"), "FR"
) | {"AX": "FI"}
# Silenced once for the process (see _national_check), not per IBAN: catch_warnings() is
# global state saved and restored on every call, and not safe across threads.
warnings.filterwarnings("ignore", category=NationalChecksumNotVerified)
# A BIC without a branch part names the institution's head office, as "XXX" does.
_HEAD_OFFICE = "XXX"
# What an IBAN's keyed hash is for: one hash, so that blocks match the requests' IBANs.
IBAN_HASH_PURPOSE = "iban"


@dataclass(frozen=True)
class ValidatedIban:
    compact: str  # the full IBAN: encrypt it, never show or log it
    masked: str
    country: str
    bic: str | None
    bank_name: str | None


def _checksum_failed() -> BillingError:
    return BillingError(
        ErrorCode.IBAN_CHECKSUM_FAILED,
        "The IBAN's check digits do not match the rest: a character was probably mistyped. "
        "Ask the customer to re-read it from their bank statement.",
    )


def _structure(compact: str) -> None:
    if not _SHAPE.match(compact):
        raise BillingError(
            ErrorCode.IBAN_INVALID,
            "An IBAN is two letters, two check digits, then letters and digits only; "
            "check what the customer sent.",
        )


def _country_and_length(compact: str) -> None:
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


def _check_digits(compact: str) -> None:
    # ISO 13616 check digits run from 02 to 98: 00, 01 and 99 also pass a bare mod-97 test
    # but are never issued, so they are a mistyped IBAN like any other checksum failure.
    if not "02" <= compact[2:4] <= "98" or not iban_checksum_ok(compact):
        raise _checksum_failed()


def _parse(compact: str) -> IBAN:
    """The country's BBAN layout: which positions are letters, digits, bank and account."""
    try:
        return IBAN(compact)
    except InvalidChecksumDigits:
        raise _checksum_failed() from None
    except SchwiftyException:
        raise BillingError(
            ErrorCode.IBAN_INVALID,
            f"The IBAN does not follow the layout of {compact[:2]} IBANs (letters where only "
            "digits belong, or the reverse); ask the customer to re-read it from their bank "
            "statement.",
        ) from None


def _national_check(iban: IBAN) -> None:
    """The check digits the bank itself puts in the BBAN (Spain's DC, France's RIB key, Italy's
    CIN, Belgium's, Germany's by bank...). Where schwifty has no algorithm for the country (for
    example Hungary, Sweden, Albania) or does not know a German bank code, it accepts the digits
    unverified and says so with a warning, which is expected here and silenced."""
    country = _NATIONAL_FORMAT_OF.get(iban.country_code, iban.country_code)
    try:
        BBAN(country, iban.bban).validate_national_checksum()
    except InvalidBBANChecksum:
        raise BillingError(
            ErrorCode.IBAN_NATIONAL_CHECK_FAILED,
            "The bank's own check digits inside the IBAN do not match its account number, so "
            "a character was probably mistyped. Ask the customer to read it again from their "
            "bank statement.",
        ) from None


def _sepa_reach(country: str) -> None:
    if not in_sepa(country):
        raise BillingError(
            ErrorCode.IBAN_NOT_SEPA,
            f"Accounts in {country} are outside the SEPA zone, so SEPA direct debit and "
            "payouts cannot use them. Ask the customer for an account in a SEPA country.",
        )


class _RegisteredBank(NamedTuple):
    bic: str | None  # the BIC schwifty derives for the bank code
    name: str | None
    bics: tuple[BIC, ...]  # every BIC the registry lists for it (a bank can have several)


# By country and bank code: the registry does not change while the process runs, and schwifty
# builds and validates every candidate BIC again at each lookup (most of an IBAN's validation,
# filing after filing). Bounded, emptied when full (the registry's banks are what fills it).
_BANKS: dict[tuple[str, str], _RegisteredBank] = {}
_BANKS_LIMIT = 8192


def _bank_of(iban: IBAN) -> _RegisteredBank:
    spec = iban.spec
    key = "".join(
        iban.bban[spec.positions[part].start : spec.positions[part].end]
        for part in (spec.bic_lookup_components or [Component.BANK_CODE])
    )
    found = _BANKS.get((iban.country_code, key))
    if found is None:
        try:
            bics = tuple(BIC.candidates_from_bank_code(iban.country_code, key))
        except SchwiftyException:
            bics = ()
        derived = iban.bic
        found = _RegisteredBank(str(derived) if derived else None, iban.bank_name, bics)
        if len(_BANKS) >= _BANKS_LIMIT:
            _BANKS.clear()
        _BANKS[iban.country_code, key] = found
    return found


def _institution(bic: BIC) -> str:
    """Bank, country and location code: the first eight characters, which name one institution."""
    return str(bic.compact)[:8]


def _branch(bic: BIC) -> str:
    return bic.branch_code or _HEAD_OFFICE


def _belongs_to(given: BIC, bank_bics: Sequence[BIC]) -> bool:
    # The whole identity must match, not just the first four letters: every German cooperative
    # bank's BIC starts GENODE, and the branch part (GENODEM1GLS) tells such banks apart. A branch
    # the registry does not list is accepted when the registry knows only the head office.
    return any(
        _institution(given) == _institution(known)
        and (_branch(known) in (_HEAD_OFFICE, _branch(given)))
        for known in bank_bics
    )


def _bic(given: str | None, iban: IBAN, bank: _RegisteredBank) -> str | None:
    derived = bank.bic
    if given is None:
        return derived
    try:
        bic = BIC(_SEPARATORS.sub("", given).upper())
    except SchwiftyException:
        raise BillingError(
            ErrorCode.BIC_INVALID, "The BIC is not a valid SWIFT/BIC code."
        ) from None
    bank_bics = bank.bics
    # Where the registry does not know the bank (schwifty covers some fifty countries, and new
    # bank codes reach it late) only the country can be compared: SEPA routes by IBAN alone,
    # so a BIC that cannot be checked is not a reason to turn the customer away.
    if bic.country_code != iban.country_code or (bank_bics and not _belongs_to(bic, bank_bics)):
        expected = f" (the IBAN's bank is {derived})" if derived else ""
        raise BillingError(
            ErrorCode.BIC_MISMATCH,
            f"The BIC does not belong to the IBAN's bank{expected}; leave the BIC out to use "
            "the one derived from the IBAN, or ask the customer to check it.",
        )
    return str(bic)


# SEPA countries outside the EEA: a debit from their accounts must carry the holder's address
# (EPC rulebook since 2016; Stripe refuses such a SEPA method without it).
ADDRESS_REQUIRED_COUNTRIES = frozenset({"GB", "CH", "MC", "SM", "VA", "AD", "GI"})


def require_holder_address(country: str, address_given: bool) -> None:
    if country in ADDRESS_REQUIRED_COUNTRIES and not address_given:
        raise BillingError(
            ErrorCode.HOLDER_ADDRESS_REQUIRED,
            f"Accounts in {country} are in the SEPA zone but outside the EEA, so the debit must "
            "carry the account holder's address. Ask the customer for it (line 1, city, postal "
            "code, country) and send it as payload.account_holder_address.",
            extra={"iban_country": country},
        )


def require_holder_email(targets: Sequence[str], email_given: bool) -> None:
    """Stripe records a SEPA mandate only with the holder's email: a Stripe debit target without
    it would stop Apply halfway, after the other provider has changed."""
    if "stripe_customer_debit" in targets and not email_given:
        raise BillingError(
            ErrorCode.HOLDER_EMAIL_REQUIRED,
            "A SEPA direct debit at Stripe needs the account holder's email for the mandate. "
            "Ask the customer for it and send it as payload.account_holder_email.",
        )


def compact_iban(raw: str) -> str:
    """The IBAN without the spaces, dots, dashes and slashes people write it with: what is hashed
    and stored. Folded as detection folds it (full-width letters and digits, digits of any
    script, invisible characters, any separator: gateway/core/sensitive.py)."""
    return (without_printed_separator(raw) or without_separators(raw)).upper()


def validate_iban(raw: str, given_bic: str | None) -> ValidatedIban:
    compact = compact_iban(raw)
    _structure(compact)
    _country_and_length(compact)
    _check_digits(compact)
    iban = _parse(compact)
    _national_check(iban)
    _sepa_reach(iban.country_code)
    bank = _bank_of(iban)
    return ValidatedIban(
        compact=compact,
        masked=mask_iban(compact),
        country=iban.country_code,
        bic=_bic(given_bic, iban, bank),
        bank_name=bank.name,
    )
