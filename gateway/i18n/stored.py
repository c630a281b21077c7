"""Sentences stored in English (a check's finding, a reason written into a row, a column a
view composes) said again in the reader's language.

A stored sentence is matched against the English templates it can have been made from
(`Message("...{value}...")`); the values found are said again the same way (a value may itself
be a template's sentence or a marked word) and put into the template's translation. A sentence
no template made is shown as it was stored.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

from gateway.core.catalogues import gettext

_FIELD = re.compile(r"\{(\w+)\}")
# The templates' lazy groups backtrack; a sentence longer than any the gateway makes (values
# included) is shown as stored rather than searched.
_LONGEST = 600


def _pattern(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for found in _FIELD.finditer(template):
        parts.append(re.escape(template[position : found.start()]))
        name = found.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
        seen.add(name)
        position = found.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts), re.DOTALL)


def marked_in(paths: Iterable[Path]) -> list[str]:
    """Every string marked with `Message(...)` or `N_(...)` in these modules' source: what
    they can have stored."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("Message", "N_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append(node.args[0].value)
    return found


class StoredSentences:
    def __init__(self, marked: Iterable[str]) -> None:
        marked = set(marked)
        # Most specific first (the most fixed text): "{method} (default)" before "{a} ({b})",
        # and a template that begins another never wins over it.
        templates = sorted(
            (text for text in marked if _FIELD.search(text)),
            key=lambda text: (len(_FIELD.sub("", text)), len(text)),
            reverse=True,
        )
        self._patterns = [(template, _pattern(template)) for template in templates]
        self._words = frozenset(text for text in marked if not _FIELD.search(text))

    def said_again(self, sentence: str, depth: int = 0) -> str:
        """`sentence` (English, as stored) in the current language, as far as it is known."""
        if sentence in self._words:
            return gettext(sentence)
        if depth > 3 or len(sentence) > _LONGEST:
            return sentence
        for template, pattern in self._patterns:
            match = pattern.fullmatch(sentence)
            if match is not None:
                values = {
                    name: self.said_again(value, depth + 1)
                    for name, value in match.groupdict().items()
                }
                return gettext(template).format(**values)
        return sentence
