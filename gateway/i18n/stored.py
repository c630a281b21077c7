"""Sentences that were stored in English (a reason written into a row, a column a view
composes) said again in the reader's language: the sentence is matched against the English
templates it was made from, and the values found are put into the translated template."""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Sequence

from gateway.i18n.catalogues import gettext

_FIELDS = string.Formatter()


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    parts = []
    for literal, field, _, _ in _FIELDS.parse(template):
        parts.append(re.escape(literal))
        if field:
            parts.append(f"(?P<{field}>.+?)")
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def retranslate(text: str, templates: Sequence[str]) -> str:
    """`text` in the current language if it has the shape of one of `templates` (English,
    marked for the catalogues); else as it is."""
    for template in templates:
        found = _pattern(template).match(text)
        if found:
            return gettext(template).format(**found.groupdict())
    return text
