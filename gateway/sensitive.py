"""Find and mask IBANs and card numbers in any text: one definition for logs, errors and input.

An IBAN is anything shaped like one, of its country's length, whose mod-97 checksum holds; a card
number is a run of 13 to 19 digits (one space-like character or dash allowed between them) that
passes the Luhn check. IBANs are masked first so that the digits inside an IBAN are never
mistaken for a card number.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import Any

from schwifty.registry import get_iban_spec

# Separators: any single space-like character (no-break space included) or a dash.
# People group IBANs and card numbers with spaces, dashes, dots or slashes, sometimes doubled.
_SEP = r"[\s.\-/]"
_IBAN_CANDIDATE = re.compile(
    rf"(?<![A-Za-z0-9])[A-Za-z]{{2}}\d{{2}}(?:{_SEP}{{0,3}}[A-Za-z0-9]){{11,30}}"
)
_CARD_CANDIDATE = re.compile(rf"(?<!\d)(?<!\d{_SEP})\d(?:{_SEP}{{0,3}}\d){{12,18}}(?!{_SEP}?\d)")
_SEPARATORS = re.compile(_SEP)
_TWO_DIGITS = re.compile(r"\d\d")
_LETTERS_AS_DIGITS = str.maketrans(
    {letter: str(10 + n) for n, letter in enumerate(string.ascii_uppercase)}
)


def _iban_lengths() -> dict[str, int]:
    """IBAN length by country, for every country schwifty knows: a candidate is checked only
    at its country's exact length, which keeps redaction fast and precise."""
    lengths = {}
    for first in string.ascii_uppercase:
        for second in string.ascii_uppercase:
            try:
                lengths[first + second] = get_iban_spec(first + second).iban_length
            except Exception:  # noqa: S112  (most letter pairs are not IBAN countries)
                continue
    return lengths


IBAN_LENGTHS = _iban_lengths()


def iban_checksum_ok(compact: str) -> bool:
    """ISO 13616 mod-97 check on an upper-case IBAN without spaces."""
    digits = (compact[4:] + compact[:4]).translate(_LETTERS_AS_DIGITS)
    return digits.isdigit() and int(digits) % 97 == 1


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def mask_iban(compact: str) -> str:
    """Country and last four characters: all a person needs to recognise the account."""
    return f"{compact[:2].upper()}****{compact[-4:]}"


def mask_card(digits: str) -> str:
    return f"[card ****{digits[-4:]}]"


def _iban_spans(text: str) -> Iterator[tuple[int, int, str]]:
    position = 0
    while match := _IBAN_CANDIDATE.search(text, position):
        positions = [
            match.start() + i for i, ch in enumerate(match.group()) if not _SEPARATORS.match(ch)
        ]
        compact = "".join(text[p] for p in positions).upper()
        length = IBAN_LENGTHS.get(compact[:2], 0)
        if length and len(compact) >= length and iban_checksum_ok(compact[:length]):
            yield match.start(), positions[length - 1] + 1, compact[:length]
            position = positions[length - 1] + 1
        else:
            # Not an IBAN from here ("AA00 DE89 3704 ..."): one may still start further in.
            position = match.start() + 1


def _card_spans(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _CARD_CANDIDATE.finditer(text):
        digits = _SEPARATORS.sub("", match.group())
        if luhn_ok(digits):
            yield match.start(), match.end(), digits


def _replace(text: str, spans: Iterator[tuple[int, int, str]], mask: Any) -> str:
    pieces, cursor = [], 0
    for start, end, value in spans:
        pieces.append(text[cursor:start])
        pieces.append(mask(value))
        cursor = end
    if not pieces:
        return text
    pieces.append(text[cursor:])
    return "".join(pieces)


def redact_text(text: str) -> str:
    """Mask every IBAN and card number in `text`; text without any comes back unchanged."""
    if not _TWO_DIGITS.search(text):  # both need digits in a row: most text stops here
        return text
    if _IBAN_CANDIDATE.search(text):
        text = _replace(text, _iban_spans(text), mask_iban)
    if _CARD_CANDIDATE.search(text):
        text = _replace(text, _card_spans(text), mask_card)
    return text


def contains_iban(text: str) -> bool:
    """Whether `text` holds an IBAN in any case or spacing (what `redact_text` would mask)."""
    return bool(_TWO_DIGITS.search(text)) and any(True for _ in _iban_spans(text))


def contains_card_number(text: str) -> bool:
    if not _CARD_CANDIDATE.search(text):  # runs on every POST body and string in it
        return False
    without_ibans = _replace(text, _iban_spans(text), mask_iban)
    return any(True for _ in _card_spans(without_ibans))


def strings_in(value: Any) -> list[str]:
    """Every string inside nested dicts (keys included), lists and tuples."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [
            text for key, item in value.items() for text in (*strings_in(key), *strings_in(item))
        ]
    if isinstance(value, list | tuple):
        return [text for item in value for text in strings_in(item)]
    return []


def redact_value(value: Any) -> Any:
    """Redact strings anywhere inside nested dicts, lists and tuples."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(item) for item in value)
    return value
