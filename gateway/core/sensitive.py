"""Find and mask IBANs and card numbers in any text: one definition for logs, errors and input.

Detection runs on a folded copy of the text, so that a number in another spelling is the same
number: each character is NFKC-normalised (full-width letters and digits, ligatures), a digit
of any script becomes its ASCII digit, invisible characters (format characters such as
zero-width spaces and soft hyphens, combining marks, control characters) are dropped, and
spaces, dashes and the like become their ASCII separators. What is found is mapped back onto
the original text, which is otherwise left exactly as written.

A card number is a chain of 13 to 19 digits, at most eight separator characters between any
two ("4539 - - - 5787"), that passes the Luhn check. An IBAN is two letters and two check
digits followed by a BBAN of its country's structure and length (schwifty's registry): with a
valid checksum, or, written as IBANs are (its first four characters together), a mistyped one
(the checksum fails, or an all-digit BBAN is a digit short), so that a mistyped IBAN is never
taken for a card number, nor let into free text; glued to the word before it ("IBANDE89…"),
only a valid one that ends the word. IBANs are found first, so that the digits inside
one are never mistaken for a card number; ids (UUIDs, hex digests) are neither. Escapes as a
repr writes them ("\\xad", "\\u0664") are read as the characters they stand for.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import string
import unicodedata
from collections.abc import Callable, Iterator
from heapq import merge
from itertools import accumulate, groupby, islice
from typing import Any, NamedTuple

import confusable_homoglyphs  # type: ignore[import-untyped]  # its data file only
from schwifty.registry import get_iban_spec

from gateway.core.errors import BillingError, ErrorCode

# Detection reads only the ASCII letters, digits and these separators of the folded text, but
# for a number printed with another separator (_PRINTED_CARD, _PRINTED_IBAN: see
# may_hold_printed_number):
# catalogues.redact_sentence relies on it (a character folding to anything else splits a
# sentence into parts masked alone). A pattern reaching across other characters breaks that;
# tests/unit/test_sentence_masking.py holds the two equal.
# Separators in the folded text. People group numbers with spaces, dashes, dots, slashes,
# commas, underscores, bars, pluses, semicolons, asterisks, tildes, hashes or equals signs,
# sometimes several ("4539 - - - 5787"): a run of up to eight.
# Not colons: "2026-12-04 19:07:15" is a time, not 14 digits.
_SEPARATORS = " \t\n\r\v\f.,_-/\\'|+;*~#="
_SEP = r"[ \t\n\r\v\f.,_\-/\\'|+;*~#=]"
_SEP_RE = re.compile(_SEP)
_SEP_RUN = re.compile(f"({_SEP}+)")
_RUN = 8
# Only whole chains of 13 digits or more match: a shorter chain's tails are shorter still.
# The first digit comes before the look behind ("not after a digit", so "not two digits" once
# it is one): a pattern that starts with a character class is searched for at C speed.
_LONG_CHAIN = re.compile(rf"[0-9](?<![0-9]{{2}})(?:{_SEP}{{0,{_RUN}}}+[0-9]){{12,}}+")
# Ids: a UUID, or 32 hex characters or more (a dashless UUID, a digest). Their digits can
# chance to form a Luhn-valid run (one UUID in a few hundred): an id is not a card number.
_HEX_ID = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}|(?=[0-9]*[a-fA-F])[0-9a-fA-F]{32,})(?![0-9A-Za-z])"
)
# A whole text that is one id, as ids go by value (trace ids, request ids, idempotency keys):
# every span in it lies inside the id, so nothing in it is found; answered without a search.
_WHOLE_HEX_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|(?=[0-9]*[a-fA-F])[0-9a-fA-F]{32,}"
)
_ESCAPE = re.compile(
    r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U000[0-9a-fA-F]{5}|U0010[0-9a-fA-F]{4})"
)
_NOT_IN_IDS = re.compile(r"[^0-9A-Za-z-]")
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_ALNUM = frozenset(string.ascii_letters + string.digits)
_TWO_DIGITS = re.compile(r"[0-9][^0-9]*[0-9]")
_NOT_DIGIT = re.compile(r"[^0-9]")
_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")  # every ASCII one
_LETTERS_AS_DIGITS = str.maketrans(
    {letter: str(10 + n) for n, letter in enumerate(string.ascii_uppercase)}
)
_MIN_CARD, _MAX_CARD = 13, 19
_LETTERS_FOR_DIGITS = str.maketrans("OIL", "011")  # upper case: compact IBANs are
_DIGITS = string.digits
# Bytes through this keep only their ASCII digits: one C pass to count them.
_NOT_DIGIT_BYTES = bytes(byte for byte in range(256) if byte not in b"0123456789")


def ascii_digits_in(data: bytes) -> int:
    """How many ASCII digits `data` holds, counted at C speed."""
    return len(data.translate(None, _NOT_DIGIT_BYTES))


_CARD_GROUPINGS = {(4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4)}  # as printed on cards
# A card printed as cards are, with one separator repeated that chains do not take, or a
# longer run of spaces: "4539:5787:6362:1486", "(4539)(5787)(6362)(1486)", "4539&5787&…",
# groups set far apart. Only the printed shapes (4-4-4-4, 4-4-4-4-3, 4-6-5, 4-6-4), so that a
# time ("19:07:15"), a date or a list of short numbers is never one.
_PRINTED_SEPARATOR = r"(?:[^0-9A-Za-z\s]|[^0-9A-Za-z]{2,4}|\s{9,80})"
_PRINTED_CARD = re.compile(  # opens with a character class, like _LONG_CHAIN: C speed
    rf"[0-9](?<![0-9]{{2}})[0-9]{{3}}(?:(?P<a>{_PRINTED_SEPARATOR})[0-9]{{4}}(?P=a)[0-9]{{4}}"
    rf"(?P=a)[0-9]{{4}}(?:(?P=a)[0-9]{{3}})?|(?P<b>{_PRINTED_SEPARATOR})[0-9]{{6}}(?P=b)"
    rf"[0-9]{{4,5}})(?![0-9])"
)
# The same shapes without the look-arounds: what may_hold_printed_number looks for. An IBAN
# found is blanked before cards are searched, which may free a card glued to it ("…3000"
# "4539:…").
_PRINTED_SHAPE = re.compile(
    rf"[0-9]{{4}}(?:(?P<a>{_PRINTED_SEPARATOR})[0-9]{{4}}(?P=a)[0-9]{{4}}(?P=a)[0-9]{{4}}"
    rf"|(?P<b>{_PRINTED_SEPARATOR})[0-9]{{6}}(?P=b)[0-9]{{4}})"
)
# An IBAN printed in groups of four the same way ("DE89:3704:0044:0532:0130:00"); taken only
# when valid at its country's length (_printed_ibans).
_PRINTED_IBAN = re.compile(
    rf"(?<![A-Za-z0-9])[A-Za-z]{{2}}[0-9]{{2}}(?P<s>{_PRINTED_SEPARATOR})[A-Za-z0-9]{{4}}"
    rf"(?:(?P=s)[A-Za-z0-9]{{1,4}}){{2,7}}(?![A-Za-z0-9])"
)
_PRINTED_IBAN_SHAPE = re.compile(  # from its check digits, the letters looked behind: prose
    # has letters everywhere, digits seldom, and a search tries each place its first class fits
    rf"[0-9]{{2}}(?<=[A-Za-z]{{2}}[0-9]{{2}})(?P<s>{_PRINTED_SEPARATOR})[A-Za-z0-9]{{4}}(?P=s)"
    r"[A-Za-z0-9]"
)
_FEWEST_PRINTED_CARD_DIGITS = 14  # 4-6-4
# Across the separator, the groups' neighbour: a colon ("::") or a group of 1 to 4 hex digits
# makes them part of an IPv6 address; a word ("card:") does not.
_TOKEN_BEFORE = re.compile(r"(?:[0-9A-Za-z]+|:)$")
_TOKEN_AFTER = re.compile(r"[0-9A-Za-z]+|:")
_HEX_GROUP = re.compile(r"[0-9A-Fa-f]{1,4}")
_GROUPINGS_BY_SECOND = {  # what to try after a group of four, by the next group's length
    second: sorted(list(shape) for shape in _CARD_GROUPINGS if shape[1] == second)
    for second in {shape[1] for shape in _CARD_GROUPINGS}
}
_MIN_MISTYPED_DIGITS = 10  # a mistyped IBAN's BBAN still has these: "MD12 appointment" has none


# -- folding --------------------------------------------------------------------------------

# Letters of other scripts that a reader takes for Latin capitals (and a few small letters).
_LOOKALIKES = {
    chr(code): latin
    for codes, latins in (
        ((0x410, 0x412, 0x415, 0x41A, 0x41C, 0x41D, 0x41E, 0x420, 0x421, 0x422), "ABEKMHOPCT"),
        ((0x425, 0x423, 0x406, 0x408, 0x405), "XYIJS"),  # Cyrillic capitals
        ((0x391, 0x392, 0x395, 0x396, 0x397, 0x399, 0x39A, 0x39C, 0x39D, 0x39F), "ABEZHIKMNO"),
        ((0x3A1, 0x3A4, 0x3A5, 0x3A7), "PTYX"),  # Greek capitals
        ((0x430, 0x435, 0x43E, 0x440, 0x441, 0x443, 0x445, 0x456, 0x458, 0x455), "aeopcyxijs"),
    )
    for code, latin in zip(codes, latins, strict=True)
}


def _confusable_latin_letters() -> dict[str, str]:
    """Every letter of another script that Unicode's confusables (TR39, as the
    confusable-homoglyphs package ships them) list as looking like one Latin letter: U+13A0
    (Cherokee) for D, U+A4F0 (Lisu) for E, U+2D39 (Tifinagh) for E. Not Arabic letters: the
    back office writes Arabic, where an alef is read as an alef, not as an l."""
    listed = json.loads(
        importlib.resources.files(confusable_homoglyphs).joinpath("confusables.json").read_text()
    )
    found: dict[str, str] = {}
    for latin in sorted(string.ascii_letters):
        for entry in listed.get(latin, ()):
            char = entry["c"]
            if (
                len(char) == 1
                and not char.isascii()
                and unicodedata.category(char).startswith("L")
                and not unicodedata.name(char, "").startswith("ARABIC")
            ):
                found.setdefault(char, latin)
    return found


_LOOKALIKES = {**_confusable_latin_letters(), **_LOOKALIKES}  # the table above first
# Filler letters that render as nothing (Hangul fillers, the Braille blank).
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _fold_one(char: str) -> str:
    if char.isascii():
        return "" if _ASCII_CONTROL.match(char) else char
    if char.isdecimal():
        return str(unicodedata.decimal(char))
    category = unicodedata.category(char)
    if category in ("Cf", "Cc", "Mn", "Me", "Cs") or char in _INVISIBLE_LETTERS:
        return ""
    if category in ("Zs", "Zl", "Zp"):
        return " "
    if category == "Pd" or char in "\u2212\u2043\u2010":
        return "-"
    if category == "Pc":
        return "_"
    if category in ("Po", "Pi", "Pf"):  # the Arabic comma, middle dots, quotes
        return ","
    if char in "\u2044\u2215\u29f8":  # fraction and division slashes
        return "/"
    if char in "\u2219\u22c5":  # the bullet and dot operators, as a middle dot
        return "."
    return _LOOKALIKES.get(char, char)


# Characters that fold to themselves are kept only as a working set of this many: sending
# every code point once would otherwise grow the process by ~160 MB for good. The ~10,300
# that fold to something else (all of Unicode has no more) are always kept.
_FOLD_CACHE_LIMIT = 20_000


class _Folding(dict[int, str]):
    """str.translate table, filled on first sight of each character (a dict, so that a
    character seen before is looked up at C speed)."""

    def __init__(self) -> None:
        super().__init__()
        self._changed: dict[int, str] = {}

    def __missing__(self, code: int) -> str:
        folded = "".join(_fold_one(c) for c in unicodedata.normalize("NFKC", chr(code)))
        if folded != chr(code):
            self._changed[code] = folded
        elif len(self) >= len(self._changed) + _FOLD_CACHE_LIMIT:
            self.clear()  # str.translate looks characters up one by one: safe to trim here
            self.update(self._changed)
        self[code] = folded
        return folded

    def fold(self, text: str) -> str:
        """`text.translate(self)`; the text itself when nothing in it changes. Only the
        characters that may change are looked at (an Arabic sentence's vowel marks, a
        full-width digit), found at C speed: translate looks every character up."""
        if text.isascii() and (text.isprintable() or not _ASCII_CONTROL.search(text)):
            return text  # a printable text, the common case, needs no search
        changing = set(_MAY_CHANGE.findall(text))
        if not changing:
            return text
        folds = {char: self[ord(char)] for char in changing}
        changed = [char for char, folded in folds.items() if folded != char]
        if not changed:
            return text
        # One replacement after another is a translation when no replacement holds a character
        # that is itself replaced: true of folds made only of characters that stay.
        if len(changed) > _FEW_TO_REPLACE or _MAY_CHANGE.search("".join(folds.values())):
            return text.translate(self)
        for char in changed:
            text = text.replace(char, folds[char])
        return text


_FOLD = _Folding()
# Characters known to fold to themselves: ASCII but its dropped controls, and the letters and
# punctuation of the scripts up to U+07FF (Latin, Greek, Cyrillic, Hebrew, Arabic...) and
# general punctuation, checked once here. Any other character may change.
_STAYING = [
    char
    for char in map(chr, [*range(0x800), *range(0x2000, 0x2070)])
    if not (char.isascii() and _ASCII_CONTROL.match(char)) and _FOLD[ord(char)] == char
]
_MAY_CHANGE = re.compile(f"[^{re.escape(''.join(_STAYING))}]")
_FEW_TO_REPLACE = 8


def _digit_like_class() -> str:
    """A regex class of every character that folds to a digit: any script's decimal digits and
    the few others NFKC turns into one (superscripts, circled and parenthesised numbers)."""
    others = "".join(
        chr(code)
        for code in range(0x80, 0x20000)
        if unicodedata.category(chr(code)) == "No"
        and any(char.isdecimal() for char in unicodedata.normalize("NFKC", chr(code)))
    )
    return rf"[\d{re.escape(others)}]"


_DIGIT_LIKE = _digit_like_class()
_TWO_DIGIT_LIKE = re.compile(rf"{_DIGIT_LIKE}.*?{_DIGIT_LIKE}", re.DOTALL)


def _digits_in_one_class() -> str:
    """A regex class of the characters that fold to two digits or more on their own (¼ is
    "1/4", ⑫ is "12"): one of them is as much as two digits to the first look."""
    many = "".join(
        chr(code)
        for code in range(0x80, 0x20000)
        if unicodedata.decomposition(chr(code))  # NFKC changes only these: a cheap first look
        and sum(char.isdecimal() for char in unicodedata.normalize("NFKC", chr(code))) > 1
    )
    return f"[{re.escape(many)}]"


_DIGITS_IN_ONE = re.compile(_digits_in_one_class())


class _Folded(NamedTuple):
    text: str
    # folded index -> where its character starts, and ends, in the original; None: the same
    origin: Callable[[], tuple[list[int], list[int]]] | None


def _folded(text: str) -> _Folded:
    if "\\" in text and _ESCAPE.search(text):
        return _unescaped(text)
    folded = _FOLD.fold(text)
    if folded is text:  # the common cases, plain ASCII and accented names: nothing to fold
        return _Folded(text, None)

    def origin() -> tuple[list[int], list[int]]:
        starts = [i for i, char in enumerate(text) for _ in _FOLD[ord(char)]]
        return starts, [i + 1 for i in starts]

    return _Folded(folded, origin)


def _unescaped(text: str) -> _Folded:
    """Folded, with each escape ("\\xad", "\\u0664") read as the character it stands for.
    Error messages quote bad values as reprs ("Invalid enum value '4\\xad5\\xad3…'"), which
    would otherwise hide the digits from detection while a reader still sees them."""

    def origin() -> tuple[list[int], list[int]]:  # only once something is found: rare
        starts: list[int] = []
        ends: list[int] = []
        cursor = 0
        for match in [*_ESCAPE.finditer(text), None]:
            stop = match.start() if match else len(text)
            for i in range(cursor, stop):
                width = len(_FOLD[ord(text[i])])
                starts += [i] * width
                ends += [i + 1] * width
            if match:
                width = len(_FOLD[int(match.group()[2:], 16)])
                starts += [match.start()] * width
                ends += [match.end()] * width
                cursor = match.end()
        return starts, ends

    unescaped = _ESCAPE.sub(lambda match: chr(int(match.group()[2:], 16)), text)
    return _Folded(_FOLD.fold(unescaped), origin)


def normalised(text: str) -> str:
    """The folded copy detection runs on: never stored in place of what people wrote."""
    return _folded(text).text


def without_separators(text: str) -> str:
    """Folded, without separators: an IBAN or a BIN as typed (in full-width digits, say)."""
    return _SEP_RE.sub("", normalised(text))


def without_printed_separator(text: str) -> str | None:
    """A whole text that is an IBAN printed in groups with a separator chains do not take
    ("DE89:3704:0044:…", "(DE89)(3704)…"), folded, without it; None for any other text."""
    match = _PRINTED_IBAN.fullmatch(normalised(text).strip(" ()[]{}<>\"'"))
    return match.group().replace(match.group("s"), "") if match else None


# -- checks ---------------------------------------------------------------------------------


class _IbanSpec(NamedTuple):
    length: int
    bban: re.Pattern[str]
    digits_only: bool


def _iban_specs() -> dict[str, _IbanSpec]:
    """Every country schwifty knows: a candidate is checked at its country's exact length and
    BBAN structure, which keeps detection fast and precise."""
    specs = {}
    for first in string.ascii_uppercase:
        for second in string.ascii_uppercase:
            try:
                spec = get_iban_spec(first + second)
            except Exception:  # noqa: S112  (most letter pairs are not IBAN countries)
                continue
            specs[first + second] = _IbanSpec(
                spec.iban_length, spec.regex, set(re.sub(r"\d|!", "", spec.bban_spec)) == {"n"}
            )
    return specs


_IBAN_SPECS = _iban_specs()
IBAN_LENGTHS = {country: spec.length for country, spec in _IBAN_SPECS.items()}
# The fewest ASCII letters and digits anything found has: a card's digits, or the shortest
# IBAN a digit short (_iban_length takes it as mistyped).
_FEWEST_ALNUM = min(_MIN_CARD, min(IBAN_LENGTHS.values()) - 1)
# Deleted by bytes.translate, at C speed (str.translate looks each character up in a dict).
_NOT_ALNUM_BYTES = bytes(code for code in range(128) if chr(code) not in _ALNUM)


# Two letters, two digits, then the BBAN, with separator runs anywhere ("D E 8 9 3 7 …").
_BBAN = rf"(?:{_SEP}{{0,{_RUN}}}+[A-Za-z0-9]){{10,32}}"
_SPACED_IBAN = re.compile(
    rf"(?<![A-Za-z0-9])[A-Za-z]{_SEP}{{0,{_RUN}}}+[A-Za-z](?:{_SEP}{{0,{_RUN}}}+[0-9]){{2}}{_BBAN}"
)
# Or glued to the word before it ("IBANDE89…", "refFR14…"), its first four characters
# together, where it must then be valid (see _iban_spans). Found from its check digits: a
# search that skips to digits keeps ordinary text as fast to scan as before.
_GLUED_IBAN = re.compile(rf"[0-9]{{2}}(?<=[A-Za-z0-9][A-Za-z]{{2}}[0-9]{{2}}){_BBAN}")


class _Candidates:
    """The next IBAN candidate of either kind, each kind searched for again only once the
    candidate it found has been passed: text with many ("AB12CD34…") is scanned once."""

    def __init__(self, folded: str) -> None:
        self._folded = folded
        self._spaced = _SPACED_IBAN.search(folded)
        self._glued = _GLUED_IBAN.search(folded)

    def first(self, start: int = 0) -> tuple[int, str] | None:
        """Where the first candidate at `start` or after starts, and its text."""
        if self._spaced is not None and self._spaced.start() < start:
            self._spaced = _SPACED_IBAN.search(self._folded, start)
        if self._glued is not None and self._glued.start() - 2 < start:
            self._glued = _GLUED_IBAN.search(self._folded, start + 2)
        spaced, glued = self._spaced, self._glued
        if glued is not None and (spaced is None or glued.start() - 2 < spaced.start()):
            return glued.start() - 2, self._folded[glued.start() - 2 : glued.end()]
        return (spaced.start(), spaced.group()) if spaced else None


def iban_checksum_ok(compact: str) -> bool:
    """ISO 13616 mod-97 check on an upper-case IBAN without spaces."""
    digits = (compact[4:] + compact[:4]).translate(_LETTERS_AS_DIGITS)
    return digits.isdigit() and int(digits) % 97 == 1


_DOUBLED = str.maketrans("0123456789", "0246813579")  # a digit doubled, its digits summed


def luhn_ok(digits: str) -> bool:
    if digits.isascii() and digits.isdigit():  # at C speed: chains check one per group
        doubled = digits[-2::-2].translate(_DOUBLED)
        return (sum((digits[-1::-2] + doubled).encode()) - 48 * len(digits)) % 10 == 0
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


def _iban_length(compact: str, written_together: bool) -> int:
    """How many of `compact`'s characters are an IBAN, valid or mistyped; 0 if none. The BBAN
    must have its country's structure: "IS12 days late and the customer…" has a 1-in-97 chance
    of a valid checksum, but not 22 digits."""
    spec = _IBAN_SPECS.get(compact[:2])
    if spec is None or not compact[2:4].isdigit():
        return 0
    length = spec.length
    written = compact[4:length]
    if len(compact) >= length and ("O" in written or "I" in written or "L" in written):
        # Letters typed for digits ("37O4 OO44", "l234"): valid once read as digits, with
        # half of its digits written as digits at least, it is the IBAN a reader sees.
        bban = written.translate(_LETTERS_FOR_DIGITS)
        digits = sum(char.isdigit() for char in written)
        if (
            spec.bban.match(bban)
            and 2 * digits >= len(bban)
            and iban_checksum_ok(compact[:4] + bban)
        ):
            return length
    if len(compact) >= length and spec.bban.match(compact[4:length]):
        if iban_checksum_ok(compact[:length]):
            return length
        digits = sum(char.isdigit() for char in compact[4:length])
        if written_together and digits >= _MIN_MISTYPED_DIGITS:
            return length  # mistyped: a character is wrong
    if written_together and spec.digits_only and len(compact) >= length - 1:
        short = compact[4 : length - 1]
        if short.isdigit() and (len(compact) == length - 1 or not compact[length - 1].isdigit()):
            return length - 1  # mistyped: a digit is missing
    return 0


class _Ids:
    """Where the ids are (UUIDs, digests), looked up only once a candidate needs it: their
    characters can chance to form an IBAN or a card number, and an id is neither."""

    def __init__(self, folded: str) -> None:
        self._folded = folded
        self._spans: list[tuple[int, int]] | None = None

    def hold(self, start: int, end: int) -> bool:
        if _NOT_IN_IDS.search(self._folded, start, end):  # "DE89 3704…": spaces, no id
            return False
        if self._spans is None:
            self._spans = [m.span() for m in _HEX_ID.finditer(self._folded)]
        return any(s <= start and end <= e for s, e in self._spans)


def _iban_spans(folded: str, candidates: _Candidates, ids: _Ids) -> Iterator[tuple[int, int, str]]:
    """(start, end, compact IBAN) in the folded text."""
    candidate = candidates.first()
    while candidate is not None:
        start, group = candidate
        if (group[0] + group[1:].lstrip(_SEPARATORS)[0]).upper() not in _IBAN_SPECS:
            candidate = candidates.first(start + 1)  # "ip,203…": most stop here
            continue
        compact = _SEP_RE.sub("", group).upper()
        together = compact[:4] == group[:4].upper()
        # Glued to the word before it ("IBANDE89…"), only a valid IBAN that ends the word
        # counts: else one API key or token in a few thousand would be taken for an IBAN, and
        # with its first four apart, words for bank details ("Fax 0313…" for "AX03 13…").
        glued = start > 0 and folded[start - 1] in _ALNUM
        length = _iban_length(compact, written_together=together and not glued)
        end = start
        if length:  # where its last character is, in the folded text
            end = start + [i for i, ch in enumerate(group) if ch not in _SEPARATORS][length - 1] + 1
            if glued and end < len(folded) and folded[end] in _ALNUM:
                length = 0  # glued on both sides: inside a token ("…Om30009ECV1wC7Iu…")
        if length and not ids.hold(start, end):
            yield start, end, compact[:length]
            candidate = candidates.first(end)
        else:
            # Not an IBAN from here ("AA00 DE89 3704 ..."): one may still start further in.
            candidate = candidates.first(start + 1)


def _printed_ibans(
    folded: str, found: list[tuple[int, int, str]], ids: _Ids
) -> Iterator[tuple[int, int, str]]:
    """Valid IBANs printed with a separator chains do not take, not found already."""
    for match in _PRINTED_IBAN.finditer(folded):
        start, end = match.span()
        if any(s < end and start < e for s, e, _ in found) or ids.hold(start, end):
            continue
        compact = match.group().replace(match.group("s"), "").upper()
        if _iban_length(compact, written_together=False) == len(compact):
            yield start, end, compact


def _card_spans(
    folded: str, ibans: list[tuple[int, int, str]], ids: _Ids
) -> Iterator[tuple[int, int, str]]:
    if ibans:  # blanked out, so that a number next to an IBAN is a chain of its own
        pieces, cursor = [], 0
        for start, end, _ in ibans:
            pieces += [folded[cursor:start], "\x00" * (end - start)]  # folding drops NULs
            cursor = end
        folded = "".join([*pieces, folded[cursor:]])
    found: list[tuple[int, int]] = []
    for match in _LONG_CHAIN.finditer(folded):
        if ids.hold(*match.span()):  # the tail of a UUID ("a716-446655440000"), say
            continue
        for first, last, digits in _cards_in_chain(match.group()):
            start, end = match.start() + first, match.start() + last
            if not ids.hold(start, end):
                found.append((start, end))
                yield start, end, digits
    yield from _printed_cards(folded, found, ids)


def _printed_cards(
    folded: str, found: list[tuple[int, int]], ids: _Ids
) -> Iterator[tuple[int, int, str]]:
    """Cards printed with a separator chains do not take (_PRINTED_CARD), not found already.
    Not when the same separator goes on, on either side, to a hex digit or to itself again:
    the groups are then part of something longer, an IPv6 address ("2001:1234:5678:9012::1",
    "fe80:4539:…"), not a card number ("card:4539:5787:6362:1486" is one)."""
    for match in _PRINTED_CARD.finditer(folded):
        start, end = match.span()
        separator = match.group("a") or match.group("b")
        width = len(separator)
        if folded[max(0, start - width) : start] == separator:
            token = _TOKEN_BEFORE.search(folded, 0, start - width)
            if token and (token.group() == ":" or _HEX_GROUP.fullmatch(token.group())):
                continue
        if folded[end : end + width] == separator:
            token = _TOKEN_AFTER.match(folded, end + width)
            if token and (token.group() == ":" or _HEX_GROUP.fullmatch(token.group())):
                continue
        if any(s < end and start < e for s, e in found) or ids.hold(start, end):
            continue
        digits = "".join(char for char in match.group() if "0" <= char <= "9")
        if luhn_ok(digits):
            yield start, end, digits


def _cards_in_chain(chain: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, digits) of each card number in a chain of digit groups: the whole chain,
    or a run of its groups set off from the rest by another separator ("ref 1, 4539 5787 6362
    1486") or grouped as cards are ("ref 1 4539 5787 6362 1486"). Groups joined by a comma and
    a space are a list, not a card number, if any has more than four digits ("invoices 954721,
    718311, 841962").

    Linear in the chain: only a few runs of groups can be a card, found without trying every
    window ("1 1 1 1 …", 64 KB of it, took a second that way): a single group of 13 to 19
    digits, a whole run of groups between two other separators, or groups shaped as cards are
    printed, all with one separator. A card glued to more digits (a card number and its expiry,
    "45395787636214861225") is left alone on purpose: any 13 to 19 digits of a long number pass
    the Luhn check one time in ten, so every long number (an order id, a phone number with its
    country code) would be taken for a card."""
    parts = _SEP_RUN.split(chain)
    groups, seps = parts[0::2], parts[1::2]
    lengths = list(map(len, groups))
    offsets = [0, *accumulate(map(len, parts))][0::2]  # where each group starts
    before = [0, *accumulate(lengths)]  # digits before each group

    def card(i: int, j: int) -> str | None:
        if not _MIN_CARD <= before[j + 1] - before[i] <= _MAX_CARD:
            return None
        if max(lengths[i : j + 1]) > 4 and any(", " in sep for sep in seps[i:j]):
            return None
        digits = "".join(groups[i : j + 1])
        return digits if luhn_ok(digits) else None

    # A semicolon ends a field ("4022;2015-09-25;+31 798…", a CSV row): it joins groups only
    # as the one separator of a whole chain ("4539;5787;6362;1486") or of a printed card.
    mixed = any(";" in sep for sep in seps) and len(set(seps)) > 1
    whole = None if mixed else card(0, len(groups) - 1)
    if whole:
        yield 0, len(chain), whole
        return

    # The runs of groups i..j that may be a card, in order, each found at C speed or lazily,
    # so that finding the first card of a long chain costs little.
    def singles() -> Iterator[tuple[int, int]]:
        if max(lengths) >= _MIN_CARD:
            yield from ((i, i) for i, n in enumerate(lengths) if _MIN_CARD <= n <= _MAX_CARD)

    def runs() -> Iterator[tuple[int, int]]:  # groups start..stop, joined by one separator
        stop = 0
        for sep, run in groupby(seps):
            start, stop = stop, stop + len(list(run))
            if ";" not in sep and _MIN_CARD <= before[stop + 1] - before[start] <= _MAX_CARD:
                yield start, stop

    def printed() -> Iterator[tuple[int, int]]:  # shaped as cards are printed
        for i in _indices(lengths, 4):
            second = lengths[i + 1] if i + 1 < len(lengths) else 0
            for shape in _GROUPINGS_BY_SECOND.get(second, ()):
                j = i + len(shape) - 1
                if lengths[i : j + 1] == shape and seps[i:j].count(seps[i]) == j - i:
                    yield i, j

    resume = 0
    for i, j in merge(singles(), runs(), printed()):
        if i >= resume and (digits := card(i, j)):
            yield offsets[i], offsets[j] + lengths[j], digits
            resume = j + 1


def _indices(values: list[int], value: int) -> Iterator[int]:
    """Where `value` is in `values`, searched at C speed: most chains have few."""
    index = -1
    while True:
        try:
            index = values.index(value, index + 1)
        except ValueError:
            return
        yield index


class _Found(NamedTuple):
    ibans: list[tuple[int, int, str]]
    cards: list[tuple[int, int, str]]
    folded: _Folded


# Texts a full search (card numbers included) found clean, so that one seen again is answered
# at once: a filing scans the same strings several times (body guard, free-text refusal, the
# event, the audit entry, the log), and its fixed words at every filing. It holds no card
# number and no IBAN: only a text in which a complete search found neither goes in (a search
# for IBANs alone proves nothing about cards). Its memory is bounded: at most 4,096 texts of at
# most 256 characters, under 4.5 MB even all in astral characters (~1.3 MB in ASCII). Emptied
# when full rather than evicted one by one: one C call, amortised to nothing; a hit pays no
# bookkeeping, as an LRU order would on every hit; and what a filing repeats comes back at once.
_CLEAN_TEXTS_LIMIT = 4096
_CLEAN_TEXT_MAX_LENGTH = 256
_CLEAN_TEXTS: set[str] = set()


def _remember_clean(text: str) -> None:
    # Exact str only: a subclass may compare or hash as it likes, or keep other objects alive.
    if type(text) is str and len(text) <= _CLEAN_TEXT_MAX_LENGTH:
        if len(_CLEAN_TEXTS) >= _CLEAN_TEXTS_LIMIT:
            _CLEAN_TEXTS.clear()
        _CLEAN_TEXTS.add(text)


def may_hold_printed_number(text: str) -> bool:
    """Whether `text` has characters grouped as a card or an IBAN printed with any separator,
    as detection reads it (a shape only: check digits and neighbours are not looked at)."""
    folded = normalised(text)
    if sum(map(folded.count, _DIGITS)) >= _FEWEST_PRINTED_CARD_DIGITS and _PRINTED_SHAPE.search(
        folded
    ):
        return True
    return _PRINTED_IBAN_SHAPE.search(folded) is not None


def may_hold_card_or_iban(text: str) -> bool:
    """The first look: both need two digits at least, as detection reads the text (an escape
    such as "\\xbc" may stand for ¼, two digits; so may one character). Most text stops here.
    ASCII under 13 characters stops first: a card number has 13 digits at least, an IBAN 14
    letters and digits, and no escape stands for more letters and digits than its own length
    (tests/unit/test_sensitive.py tries every escape)."""
    if len(text) < _MIN_CARD and text.isascii():
        return False
    if "\\" in text and _ESCAPE.search(text):
        return True
    if text.isascii():
        # Without escapes, ASCII folds to its own letters and digits (its controls dropped):
        # a card has 13 digits, an IBAN 14 letters and digits at least ("IBAN DE****3000").
        return (
            _TWO_DIGITS.search(text) is not None
            and len(text.encode().translate(None, _NOT_ALNUM_BYTES)) >= _FEWEST_ALNUM
        )
    return bool(_TWO_DIGIT_LIKE.search(text) or _DIGITS_IN_ONE.search(text))


def _find(text: str, *, cards: bool = True, all_cards: bool = True) -> _Found | None:
    """Every IBAN (each one's digits are not a card number) and every card number, or with
    `all_cards` False only the first: a yes-or-no question stops at it."""
    if (type(text) is str and text in _CLEAN_TEXTS) or not may_hold_card_or_iban(text):
        return None
    if _WHOLE_HEX_ID.fullmatch(text):  # plain ASCII: folds to itself, holds no escape
        return None
    folded = _folded(text)
    body = folded.text
    ids = _Ids(body)
    candidates = _Candidates(body)
    ibans = list(_iban_spans(body, candidates, ids))
    if printed := list(_printed_ibans(body, ibans, ids)):
        ibans = sorted(ibans + printed)
    spans = _card_spans(body, ibans, ids) if cards else iter(())
    found = list(spans if all_cards else islice(spans, 1))
    if not ibans and not found:
        if cards:  # every card looked for: none in the whole text
            _remember_clean(text)
        return None
    return _Found(ibans, found, folded)


# -- the API --------------------------------------------------------------------------------


def redact_text(text: str) -> str:
    """Mask every IBAN and card number in `text`; text without any comes back unchanged."""
    if len(text) < _MIN_CARD and text.isascii():  # the first look's first check, two calls sooner
        return text
    found = _find(text)
    if found is None:
        return text
    starts, ends = found.folded.origin() if found.folded.origin else (None, None)
    spans = sorted(
        [(s, e, mask_iban(v)) for s, e, v in found.ibans]
        + [(s, e, mask_card(v)) for s, e, v in found.cards]
    )
    pieces, cursor = [], 0
    for start, end, mask in spans:
        first, last = (starts[start], ends[end - 1]) if starts and ends else (start, end)
        pieces += [text[cursor:first], mask]
        cursor = last
    pieces.append(text[cursor:])
    return "".join(pieces)


def contains_iban(text: str) -> bool:
    """Whether `text` holds an IBAN, valid or mistyped, in any spelling (what `redact_text`
    would mask)."""
    found = _find(text, cards=False)
    return found is not None and bool(found.ibans)


def _is_compact_iban(text: str) -> bool:
    """A whole text that is one valid IBAN as IBANs are stored ("DE89370400440532013000"):
    the search would find it from its first character to its last (_iban_spans)."""
    if not _COMPACT_IBAN.fullmatch(text):
        return False
    spec = _IBAN_SPECS.get(text[:2])
    return (
        spec is not None
        and len(text) == spec.length
        and spec.bban.match(text[4:]) is not None
        and iban_checksum_ok(text)
    )


_COMPACT_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{8,32}")


def contains_card_number(text: str) -> bool:
    # A card number is 13 digits or more. Folded plain ASCII without escapes ("\\u0034") has
    # exactly the digits written: fewer than 13 need no scan (an IP, an email, a fingerprint).
    if (
        text.isascii()
        and "\\" not in text
        and (len(text) < _MIN_CARD or ascii_digits_in(text.encode()) < _MIN_CARD)
    ):
        return False
    if _is_compact_iban(text):  # an IBAN's digits are never a card number: every filing's IBAN
        return False
    found = _find(text, all_cards=False)
    return found is not None and bool(found.cards)


def sensitive_kind(text: str) -> str | None:
    """What `text` holds, if anything: "card_number" (looked for first) or "iban"."""
    found = _find(text, all_cards=False)
    if found is None:
        return None
    return "card_number" if found.cards else "iban" if found.ibans else None


def refuse_card_or_iban(
    *texts: str | None, card: str | None = None, iban: str | None = None, iban_first: bool = False
) -> None:
    """The one free-text guard: refuse the first text holding a card number (`card_number_not
    _accepted`, with the sentence `card`) or an IBAN (`iban_outside_iban_field`, `iban`), in
    any spelling; a kind without a sentence is let through. A text holding both is refused for
    its card number, or with `iban_first` for its IBAN. The sentence never repeats the text."""
    for text in texts:
        found = _find(text, cards=card is not None, all_cards=False) if text else None
        if found is None:
            continue
        refusals = [
            (card if found.cards else None, ErrorCode.CARD_NUMBER_NOT_ACCEPTED),
            (iban if found.ibans else None, ErrorCode.IBAN_OUTSIDE_IBAN_FIELD),
        ]
        for sentence, code in reversed(refusals) if iban_first else refusals:
            if sentence:
                raise BillingError(code, sentence)


def sensitive_kind_of_token(token: str) -> str | None:
    """`sensitive_kind` for an id or key (a header), where no punctuation is prose: any of it
    separates ("4539:5787:6362:1486" is a card number there)."""
    return sensitive_kind(_PUNCTUATION.sub("-", token))


# Tuples, not unions ("int | float"), which would be built again at every isinstance.
_NUMBERS = (int, float)
_SEQUENCES = (list, tuple)


def strings_in(value: Any, *, numbers: bool = False) -> list[str]:
    """Every string inside nested dicts (keys included), lists and tuples, in order, and with
    `numbers` every number as written (a card number sent as a JSON number). Walks an explicit
    stack: no depth of nesting can raise RecursionError."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif numbers and isinstance(item, _NUMBERS) and not isinstance(item, bool):
            found.append(str(item))
        elif isinstance(item, dict):
            stack.extend(reversed([part for pair in item.items() for part in pair]))
        elif isinstance(item, _SEQUENCES):
            stack.extend(reversed(item))
    return found


_CONTAINERS = (dict, list, tuple)


def redact_value(value: Any) -> Any:
    """Redact strings anywhere inside nested dicts, lists and tuples (keys are kept), with an
    explicit stack: no depth of nesting can raise RecursionError."""
    if not isinstance(value, _CONTAINERS):
        return redact_text(value) if isinstance(value, str) else value
    # Each frame: the container, its (key, item) pairs still to do, and what is built so far.
    stack: list[tuple[Any, Iterator[tuple[Any, Any]], list[tuple[Any, Any]]]] = []

    def push(container: Any) -> None:
        pairs = iter(container.items() if isinstance(container, dict) else enumerate(container))
        stack.append((container, pairs, []))

    push(value)
    pending_key: list[Any] = []  # the key each open child container will be stored under
    while True:
        container, pairs, built = stack[-1]
        for key, item in pairs:  # up to the first child container, which goes on top
            if isinstance(item, _CONTAINERS):
                pending_key.append(key)
                push(item)
                break
            built.append((key, redact_text(item) if isinstance(item, str) else item))
        else:
            stack.pop()
            if isinstance(container, dict):
                result: Any = dict(built)
            else:
                result = type(container)(item for _, item in built)
            if not stack:
                return result
            stack[-1][2].append((pending_key.pop(), result))
