"""Catalogues read from `gateway/locale/<language>/LC_MESSAGES/messages.po`, compiled in memory
at first use (no compiled `.mo` in the repository to fall out of date with its `.po`)."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import io
import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from gateway.core.sensitive import (
    may_hold_printed_number,
    normalised,
    redact_text,
    without_separators,
)

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
# The languages a staff member can pick, each named in itself.
LANGUAGES = {"en": "English", "fr": "Français", "ar": "العربية"}
RIGHT_TO_LEFT = frozenset({"ar"})

current_language: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_language", default="en"
)
current_time_zone: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_time_zone", default="UTC"
)


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name for "mark only"
    """Mark a string for the catalogues where it is declared; it is translated where shown."""
    return message


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> NullTranslations:
    if language not in LANGUAGES or language == "en":
        return NullTranslations()
    with catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(message: str) -> str:
    return translations(current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return translations(current_language.get()).ngettext(singular, plural, count)


def direction(language: str | None = None) -> str:
    return "rtl" if (language or current_language.get()) in RIGHT_TO_LEFT else "ltr"


@contextlib.contextmanager
def use_language(language: str, time_zone: str | None = None) -> Iterator[None]:
    """Serve what runs inside in `language` (and `time_zone`): a request, a test, a job."""
    language_token = current_language.set(language if language in LANGUAGES else "en")
    zone_token = current_time_zone.set(time_zone) if time_zone else None
    try:
        yield
    finally:
        current_language.reset(language_token)
        if zone_token is not None:
            current_time_zone.reset(zone_token)


_FIELDS = string.Formatter()


class Message(str):
    """A sentence with values, in English, that can be said again in another language.

    `Message("Request {ticket} is {status}.", ticket=t, status=s)` is the English string (what
    the API, the logs and the audit trail keep); `translate(message)` looks the template up in
    the reader's catalogue and fills in the same values, themselves translated when they are
    Messages or marked strings (a status's label, "a card number"). Mark the template for
    extraction by writing it as the first argument, as here.
    """

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, /, **values: Any) -> Message:
        text = super().__new__(cls, template.format(**values) if values else template)
        text.template = template
        text.values = values
        return text

    def localized(self) -> str:
        if not self.values:
            return gettext(self.template)
        # The English text was redacted where it was logged or answered; the translation puts
        # the same values back in, so it is redacted here as well (an IBAN a person typed...):
        # once, over the whole sentence, the Messages among its values filled in unredacted.
        return redact_text(self._filled())

    def _filled(self) -> str:
        """The translation with its values in, Messages among them translated likewise."""
        return self._filled_from(translations(current_language.get()))

    def _filled_from(self, catalogue: NullTranslations) -> str:
        """`_filled`, from the current language's catalogue (looked up once per sentence)."""
        if not self.values:
            return catalogue.gettext(self.template)
        values = {
            name: _filled_in(value, catalogue) if isinstance(value, Message) else value
            for name, value in self.values.items()
        }
        return catalogue.gettext(self.template).format(**values)

    def __reduce__(self) -> tuple[Any, ...]:  # pickles and copies keep the template
        return (_rebuild, (self.template, self.values))


def _rebuild(template: str, values: dict[str, Any]) -> Message:
    return Message(template, **values)


def _filled_in(value: Message, catalogue: NullTranslations) -> str:
    """A Message among another's values: a plain one filled in unredacted (the sentence it goes
    into is redacted whole); a kind that says itself (a label, an amount) as it says itself."""
    if type(value).localized is Message.localized:
        return value._filled_from(catalogue)
    return value.localized()


def said_in(message: Message, language: str) -> str:
    """`translate(message)` in `language`, for a caller that says one message in several
    languages (an event's notes): the language is set for this call alone, without a context
    manager, and a plain sentence is masked whole by `redact_sentence` (what redact_text
    gives, found faster)."""
    token = current_language.set(language if language in LANGUAGES else "en")
    try:
        if not message.values or type(message).localized is not Message.localized:
            return message.localized()
        return redact_sentence(message._filled_from(translations(current_language.get())))
    finally:
        current_language.reset(token)


def as_plain_json(value: Any) -> Any:
    """msgspec's `enc_hook`: a Message is written as its English text (msgspec encodes only
    exact `str`). Anything else msgspec cannot encode stays an error."""
    if isinstance(value, Message):
        return str(value)
    raise NotImplementedError(f"cannot encode {type(value).__name__}")


def translate(text: str) -> str:
    """`text` in the current language: a Message with its values, a marked string by its
    catalogue entry; anything else (a customer's name, a note a person wrote) as it is."""
    if isinstance(text, Message):
        return text.localized()
    return gettext(text)


def placeholders(template: str) -> set[str]:
    """The named fields of a `{}` template (the catalogue test checks translations keep them)."""
    return {field for _, field, _, _ in _FIELDS.parse(template) if field}


# -- masking a sentence whole, faster -----------------------------------------------------------
#
# A card number or an IBAN (gateway/core/sensitive.py) is found in the folded text (each
# character folded alone; an escape read first, and an escape starts with a backslash), and is
# made of ASCII letters, digits and separators only, which its look-arounds also read. So:
# - no match spans a character that folds to one character that is none of these (an Arabic
#   or accented letter, a parenthesis, a colon), and beside one a search answers as at the
#   text's ends: the text between two such characters, a stretch, is masked as it is alone;
# - both need ASCII digits in the folded text: a stretch without a character that folds to a
#   digit, and without a backslash, holds nothing.
# Only the stretches with such a character (in a note: its values) are searched, by
# redact_text. The one exception, a card or an IBAN printed with another separator
# ("4539:5787:…", "(4539)(5787)…": any character may set its groups apart), sends the whole
# sentence to redact_text. tests/unit/test_sentence_masking.py checks this against redact_text.

# Where the catalogues' words are: ASCII, Latin-1 and Latin Extended, Arabic, punctuation.
_KNOWN = [*range(0x00, 0x80), *range(0xA0, 0x250), *range(0x600, 0x700), *range(0x2010, 0x2070)]


def _stands_apart(char: str) -> bool:
    """Folds to one character no card number or IBAN can hold (nor an escape)."""
    folded = normalised(char)
    if len(folded) != 1 or char == "\\" or folded == "\\" or folded.isdecimal():
        return False
    if folded.isascii() and (folded.isalnum() or not folded.isprintable()):
        return False
    return without_separators(char) == folded


def _quiet(char: str) -> bool:
    """Can make no digit: folds to no digit, and starts no escape."""
    return char != "\\" and not any(folded in string.digits for folded in normalised(char))


APART = frozenset(chr(code) for code in _KNOWN if _stands_apart(chr(code)))
QUIET = frozenset(chr(code) for code in _KNOWN if _quiet(chr(code)))
_APART_CHARACTER = re.compile(f"[{''.join(re.escape(char) for char in sorted(APART))}]")
_LOUD_CHARACTER = re.compile(f"[^{''.join(re.escape(char) for char in sorted(QUIET))}]")


def redact_sentence(text: str) -> str:
    """`redact_text(text)`, searching only the stretches of `text` that can hold a card number
    or an IBAN (see above): a translated sentence is mostly words of its language."""
    loud = _LOUD_CHARACTER.search(text)
    if loud is None:
        return text
    if may_hold_printed_number(text):  # its groups may be set apart by any character
        return redact_text(text)
    backwards = text[::-1]  # where a stretch starts: the first character apart, read backwards
    pieces, done = [], 0
    while loud is not None:
        before = _APART_CHARACTER.search(backwards, len(text) - loud.start())
        start = len(text) - before.start() if before else 0
        after = _APART_CHARACTER.search(text, loud.end())
        end = after.start() if after else len(text)
        pieces += [text[done:start], redact_text(text[start:end])]
        done = end
        loud = _LOUD_CHARACTER.search(text, end)
    pieces.append(text[done:])
    return "".join(pieces)
