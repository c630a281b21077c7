"""Catalogues read from `gateway/locale/<language>/LC_MESSAGES/messages.po`, compiled in memory
at first use (no compiled `.mo` in the repository to fall out of date with its `.po`)."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import io
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from gateway.core.sensitive import redact_text

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
        if not self.values:
            return gettext(self.template)
        values = {
            name: _filled_in(value) if isinstance(value, Message) else value
            for name, value in self.values.items()
        }
        return gettext(self.template).format(**values)

    def __reduce__(self) -> tuple[Any, ...]:  # pickles and copies keep the template
        return (_rebuild, (self.template, self.values))


def _rebuild(template: str, values: dict[str, Any]) -> Message:
    return Message(template, **values)


def _filled_in(value: Message) -> str:
    """A Message among another's values: a plain one filled in unredacted (the sentence it goes
    into is redacted whole); a kind that says itself (a label, an amount) as it says itself."""
    return value._filled() if type(value).localized is Message.localized else value.localized()


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
