# ruff: noqa: RUF001  (look-alike characters are the point: the spellings that hid numbers)
"""The other spellings of a card number or an IBAN that an outside test got past the filters
(issue 13, finding 1), for the unit and the integration tests alike."""

from __future__ import annotations

import unicodedata

from hypothesis import strategies as st

CARD = "4539578763621486"  # Luhn-valid, no real card
IBAN = "FR7630006000011234567890189"  # the standard's example (payloads.py files a German one)

_ASCII_DIGITS = "0123456789"
_SCRIPTS = {
    "arabic_indic": "٠١٢٣٤٥٦٧٨٩",
    "extended_arabic_indic": "۰۱۲۳۴۵۶۷۸۹",
    "devanagari": "०१२३४५६७८९",
    "fullwidth": "０１２３４５６７８９",
    "math_bold": "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",
}
_FULLWIDTH_LETTERS = str.maketrans(
    {chr(ord("A") + n): chr(0xFF21 + n) for n in range(26)}
    | {chr(ord("a") + n): chr(0xFF41 + n) for n in range(26)}
)
# Cyrillic capitals that look like Latin ones: the same to a reader of a ticket.
_CYRILLIC_LOOKALIKES = str.maketrans({"A": "А", "B": "В", "E": "Е", "K": "К", "O": "О"})
# Letters of Lisu and Cherokee that Unicode lists as confusable with Latin ones (outside test,
# 2026-12-06): F, R, D, E
_LETTERS_FOR_DIGITS = str.maketrans("01", "Ol")  # O for zero, l for one
_OTHER_SCRIPT_LOOKALIKES = str.maketrans(
    {"F": "\ua4dd", "R": "\u13a1", "D": "\u13a0", "E": "\ua4f0"}
)
# Between every digit (invisible: the screen shows a plain number)
INVISIBLE = {
    "zero_width_space": "\u200b",
    "soft_hyphen": "\u00ad",
    "zero_width_joiner": "\u200d",
    "zero_width_non_joiner": "\u200c",
    "word_joiner": "\u2060",
    "byte_order_mark": "\ufeff",
    "combining_grapheme_joiner": "\u034f",
}
# Between groups of four
SEPARATORS = {
    "four_spaces": "    ",
    "commas": ",",
    "comma_space": ", ",
    "underscores": "_",
    "spaced_dashes": " - - ",
    "tab": "\t",
    "nbsp": "\u00a0",
    "narrow_nbsp": "\u202f",
    "ideographic_space": "\u3000",
    "dots": ".",
    "slashes": "/",
    "en_dash": "\u2013",
    "em_dash": "\u2014",
    "minus_sign": "\u2212",
    "fullwidth_hyphen": "\uff0d",
    "arabic_comma": "\u060c",
    # issue 13 review: the separators that still hid a number
    "pluses": "+",
    "semicolons": ";",
    "asterisks": "*",
    "tildes": "~",
    "hashes": "#",
    "equals_signs": "=",
    "bullet_operator": "\u2219",
    "seven_character_run": " - - - ",
}


# Between groups of four, repeated: separators detection reads only in a number printed in
# groups as cards and IBANs are (outside test, 2026-12-06)
PRINTED_SEPARATORS = {
    "colons": ":",
    "double_quotes": '"',
    "ampersands": "&",
    "at_signs": "@",
    "spaced_double_colons": " :: ",
    "ten_spaces": " " * 10,
}


def _groups(value: str, separator: str) -> str:
    return separator.join(value[i : i + 4] for i in range(0, len(value), 4))


def _script(value: str, script: str) -> str:
    return value.translate(str.maketrans(_ASCII_DIGITS, _SCRIPTS[script]))


def spellings(value: str) -> dict[str, str]:
    """Every spelling by name: `value` is a card number or a compact IBAN."""
    found = {f"grouped_{name}": _groups(value, sep) for name, sep in SEPARATORS.items()}
    found |= {f"printed_{name}": _groups(value, sep) for name, sep in PRINTED_SEPARATORS.items()}
    found["printed_in_parentheses"] = "".join(f"({group})" for group in _groups(value, " ").split())
    found |= {name: char.join(value) for name, char in INVISIBLE.items()}
    found |= {name: _groups(_script(value, name), " ") for name in _SCRIPTS}
    found["mixed"] = "\u200b".join(_groups(_script(value, "arabic_indic"), "\u00a0- "))
    if not value.isdigit():  # an IBAN: its letters too
        found["fullwidth_letters_and_digits"] = _script(value, "fullwidth").translate(
            _FULLWIDTH_LETTERS
        )
        found["lower_case_spaced"] = _groups(value.lower(), " ")
        found["cyrillic_lookalike_letters"] = _groups(value.translate(_CYRILLIC_LOOKALIKES), " ")
        found["letters_for_digits"] = _groups(
            value[:4] + value[4:].translate(_LETTERS_FOR_DIGITS), " "
        )
        found["other_script_lookalike_letters"] = _groups(
            value.translate(_OTHER_SCRIPT_LOOKALIKES), " "
        )
        found["spaced_out"] = " ".join(value)
    return found


CARD_SPELLINGS = spellings(CARD)
IBAN_SPELLINGS = spellings(IBAN)


@st.composite
def spelled(draw: st.DrawFn, value: str) -> str:
    """`value` in a spelling hypothesis makes up: any digit script per digit, full-width
    letters, and between any two characters nothing, one separator run (at most eight
    characters, as the detectors allow) or any number of invisible characters."""
    gaps = st.one_of(
        st.just(""),
        # not ", ": between groups of more than four digits it makes a list ("954721, 718311");
        # nor ";", which joins groups only as a number's one separator (it ends a CSV field)
        st.sampled_from([sep for sep in SEPARATORS.values() if sep not in (", ", ";")]),
        st.lists(st.sampled_from(list(INVISIBLE.values())), min_size=1, max_size=8).map("".join),
    )
    pieces = []
    for position, char in enumerate(value):
        if char.isdigit():
            script = draw(st.sampled_from(["ascii", *_SCRIPTS]))
            pieces.append(char if script == "ascii" else _script(char, script))
        else:
            pieces.append(char.translate(_FULLWIDTH_LETTERS) if draw(st.booleans()) else char)
        if position < len(value) - 1:
            pieces.append(draw(gaps))
    return "".join(pieces)


def digits_of(text: str) -> str:
    """The digits a reader would copy out of `text`, in any script, as ASCII."""
    return "".join(str(unicodedata.digit(char)) for char in text if char.isdecimal())
