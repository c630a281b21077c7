"""A translated note is masked whole: `redact_sentence` searches only the stretches that can
hold a card number or an IBAN, and must give what `redact_text` gives for any text at all,
including numbers spelled across words, escapes, other scripts' digits and invisible marks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.catalogues import APART, redact_sentence, said_in
from gateway.core.sensitive import redact_text
from gateway.i18n import LANGUAGES, Message

PIECES = [
    # Numbers whole, spaced, dashed, starred, mistyped, glued to words.
    "DE89370400440532013000",
    "DE89 3704 0044 0532 0130 00",
    "FR76 3000 6000 0112 3456 7890 189",
    "FR7630006000011234567890189",
    "GB82WEST12345698765432",
    "GB82 WEST 1234 5698 7654 33",
    "IBANDE89370400440532013000",
    "FR****0189",
    "4539578763621486",
    "4539 5787 6362 1486",
    "4539-5787-6362-1486",
    "4539;5787;6362;1486",
    # A card printed with a separator chains do not take, and groups set far apart.
    "4539:5787:6362:1486",
    "(4539)(5787)(6362)(1486)",
    "4539&5787&6362&1486",
    "DE89:3704:0044:0532:0130:00",
    "(FR76)(3000)(6000)(0112)(3456)(7890)(189)",
    "5787          ",
    "&",
    "@",
    '"',
    "6362 1486",
    "4539 ",
    "A00000101",
    "e48771ca-dd85-43e8-8d95-78365c7f55ae",
    # Digits of other scripts and digits in one character; escapes standing for digits.
    "٤٥٣٩",
    "\uff14\uff15\uff13\uff19",  # full-width
    "²",
    "¼",
    "⑫",
    "\\x34",
    "\\u0664",
    "\\xad",
    "\\",
    # Letters, separators and marks that fold away or become separators.
    *"0123456789",
    "DE",
    "fr",
    "\uff21",  # full-width A
    "\u0410",  # Cyrillic, taken for a Latin A
    " ",
    "-",
    ".",
    "*",
    "/",
    ",",
    "\u00a0",
    "\u202f",
    "\u200b",
    "\xad",
    "\u0301",
    "ُ",
    "،",
    "\u2019",
    "\x01",
    # Characters that stand apart, and words of the catalogues' languages.
    "(",
    ")",
    ":",
    "«",
    "»",
    "é",
    "ç",
    "ب",
    "IBAN ",
    "le compte ",
    "الحساب ",
    "آيبان ",
    " a été déposée ; elle attend",
]


@settings(max_examples=4000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=24))
def test_a_sentence_is_masked_exactly_as_redact_text_masks_it(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert redact_sentence(text) == redact_text(text)


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60))
def test_any_text_is_masked_exactly_as_redact_text_masks_it(text: str) -> None:
    assert redact_sentence(text) == redact_text(text)


def test_the_characters_apart_are_those_of_the_notes_words() -> None:
    """Arabic and accented letters and brackets split the search; nothing a number is made of
    does, nor what folds into one (a full-width digit, the long s, an Arabic comma, quotes)."""
    for char in "بآéçàœ()[]:":
        assert char in APART, char
    for char in "0aZ -.*/,'\\٤\uff14²¼\u017f،\u2019«»\u00a0\u200b\u0301":
        assert char not in APART, char


@pytest.mark.parametrize(
    ("reference", "masked", "hidden"),
    [
        ("A00000101", "FR****0189", None),
        ("DE89 3704 0044 0532 0130 00", "FR****0189", "0532"),
        ("4539 5787", "FR7630006000011234567890189", "3456"),
        ("4539 5787 6362 1486", "FR****0189", "6362"),
    ],
)
@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_a_filing_note_is_said_and_masked_as_translate_says_it(
    language: str, reference: str, masked: str, hidden: str | None
) -> None:
    from gateway.i18n import translate, use_language

    note = Message(
        "The {what} for {account}{about} was filed; it waits in Triage for a specialist.",
        what=Message("bank details change"),
        account=Message("account {reference}", reference=reference),
        about=Message(" (IBAN {masked})", masked=masked),
    )
    with use_language(language):
        expected = translate(note)
    assert said_in(note, language) == expected
    assert hidden is None or hidden not in expected
