"""The back office's Jinja templates speak the request's language: `{% trans %}`, `_()`,
`ngettext()`, `translate()` for sentences made elsewhere, `lang()`/`dir()` for `<html>`, and
filters for dates and amounts."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from gateway.core.catalogues import (
    LANGUAGES,
    current_language,
    direction,
    gettext,
    ngettext,
    translate,
)
from gateway.i18n.formatting import format_amount, format_date, format_datetime, format_number
from gateway.i18n.labels import label


def install(environment: Environment) -> None:
    environment.add_extension("jinja2.ext.i18n")
    # New-style: `_("Hello %(name)s", name=x)` formats and escapes; `{% trans %}` blocks too.
    environment.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    environment.policies["ext.i18n.trimmed"] = True  # one msgid per sentence, whatever the layout
    environment.globals.update(
        lang=lambda: current_language.get(),
        dir=direction,
        languages=LANGUAGES,
        translate=translate,
        label=label,
    )
    environment.filters.update(
        datetime=_datetime_filter,
        date=_date_filter,
        amount=format_amount,
        number=format_number,
        translated=translate,
    )


def _datetime_filter(value: Any, width: str = "medium") -> str:
    return format_datetime(value, width=width)


def _date_filter(value: Any, width: str = "medium") -> str:
    return format_date(value, width=width)
