"""Every string the back office shows has a French and an Arabic translation that keeps its
placeholders: a string marked without one fails here, naming it and where it is."""

from __future__ import annotations

import re
import unicodedata

import pytest
from babel.messages.catalog import Catalog, Message

from gateway.core.catalogues import placeholders
from gateway.i18n import Message as Sentence
from gateway.i18n import gettext, translate, use_language
from gateway.i18n.messages import TRANSLATED, extract, read_catalogue
from gateway.i18n.negotiation import negotiate

_PERCENT = re.compile(r"%\((\w+)\)[sdifr]")


@pytest.fixture(scope="module")
def template() -> Catalog:
    return extract()


def _ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, tuple | list) else (message.id,)


def _fields(text: str) -> set[str]:
    return (
        set(_PERCENT.findall(text)) | placeholders(text)
        if "{" in text
        else set(_PERCENT.findall(text))
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_shown_string_is_translated(template: Catalog, language: str) -> None:
    catalogue = read_catalogue(language)
    gaps = []
    for message in template:
        if not message.id:
            continue
        where = ", ".join(f"{file}:{line}" for file, line in message.locations[:2])
        entry = catalogue.get(message.id, context=message.context)
        strings = () if entry is None else entry.string
        strings = strings if isinstance(strings, tuple | list) else (strings,)
        if entry is None or entry.fuzzy or not all(strings):
            gaps.append(f"{_ids(message)[0]!r} ({where}): no {language} translation")
            continue
        expected = set().union(*(_fields(text) for text in _ids(message)))
        for text in strings:
            if _fields(text) != expected:
                gaps.append(f"{_ids(message)[0]!r} ({where}): {language} has {text!r}")
    assert not gaps, "run `make messages`, then translate:\n" + "\n".join(gaps)


_PLACED = re.compile(r"(.?)\{(\w+)[^}]*\}(.?)")


def _iban_or_card_material(char: str) -> bool:
    """A character that could extend an IBAN or a card number: a digit of any script, or a
    Latin letter of any width (Arabic's joined و or لـ could not)."""
    folded = unicodedata.normalize("NFKC", char)
    return char.isdecimal() or (folded.isascii() and folded.isalnum())


def _glued(text: str) -> set[str]:
    """The placeholders written against a Latin letter or a digit ("paiement{amount}")."""
    return {
        name
        for before, name, after in _PLACED.findall(text)
        if any(_iban_or_card_material(char) for char in before + after)
    }


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_translation_glues_a_value_to_a_latin_letter_or_digit(
    template: Catalog, language: str
) -> None:
    """A translated sentence is masked once, whole (Message.localized): a value glued to a
    digit or letter could hide a card number or IBAN it holds from that masking ("1" + a card
    number is no card number). Only where the English glues it too (and masks it so)."""
    catalogue = read_catalogue(language)
    glued = []
    for message in template:
        entry = catalogue.get(message.id, context=message.context) if message.id else None
        if entry is None or not entry.string:
            continue
        allowed = set().union(*(_glued(text) for text in _ids(message)))
        strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        for text in strings:
            if extra := _glued(text) - allowed:
                glued.append(f"{_ids(message)[0]!r}: {language} {text!r} glues {sorted(extra)}")
    assert not glued, "put a space or punctuation beside these values:\n" + "\n".join(glued)


def test_sentences_with_values_say_themselves_again_in_the_readers_language() -> None:
    with use_language("fr"):
        assert gettext("Sign in") == "Se connecter"
    sentence = Sentence("Sign in")
    assert sentence == "Sign in"
    with use_language("ar"):
        assert translate(sentence) == "تسجيل الدخول"
    assert translate(sentence) == "Sign in"  # outside a back-office request: English


def test_a_translation_masks_an_iban_or_card_number_a_value_holds_at_any_depth() -> None:
    from gateway.change_requests.states import Named, Status

    inner = Sentence(
        "Holder {holder} wrote {text}", holder="Lumière", text="DE89 3704 0044 0532 0130 00"
    )
    outer = Sentence(
        "Request {status}: {inner} (card {card})",
        status=Named("in progress", Status.IN_PROGRESS),
        inner=inner,
        card="4539 5787 6362 1486",
    )
    for language in ("fr", "ar"):
        with use_language(language):
            said = translate(outer)
        assert "0532" not in said and "6362" not in said  # the middle digits of both are gone
        assert "3000" in said.replace(" ", "") or "30 00" in said  # masked to its last 4
        assert "Lumière" in said
    with use_language("fr"):
        assert "en cours" in translate(outer)  # a label among the values says itself


def test_the_browsers_language_decides_until_the_staff_member_picks_one() -> None:
    assert negotiate("ar-MA,ar;q=0.9,fr;q=0.8") == "ar"
    assert negotiate("de-DE,fr;q=0.5,en;q=0.3") == "fr"
    assert negotiate("de-DE") == "en"
    assert negotiate("fr-FR", preferred="ar") == "ar"
    assert negotiate("fr;q=abc," * 1000) == "en"  # a hostile header is cut short, not parsed
