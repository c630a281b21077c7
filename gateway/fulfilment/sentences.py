"""The pre-checks' sentences, said again in the reader's language.

A finding's sentence is a `Message` when the checks make it, but the request stores it (and
the API returns it) as its English text, so what the work page reads back is plain English. The
sentences come from a closed set of templates, written in the modules below as
`Message("...{value}...", value=...)`; this module reads those templates out of the modules'
source once, recognises which one made a stored sentence, recovers its values and fills them
into the template's translation. Values that are themselves one of those templates (an advice
inside a sentence) or a marked word (`N_("email address")`) are translated too; anything else
(an amount, a masked IBAN, a tier name) stays as it is. A sentence no template made is shown as
it was stored.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from gateway.i18n import N_, Message, gettext

_HERE = Path(__file__).resolve().parent
# The modules whose findings and refusals the work page shows.
SOURCES = tuple(_HERE / name for name in ("checks.py", "identity.py", "schemas.py", "sentences.py"))
_FIELD = re.compile(r"\{(\w+)\}")

# The targets as the sentences name them (their code with spaces), translated where shown.
TARGET_WORDS = {
    "zuora_collection": N_("zuora collection"),
    "stripe_customer_debit": N_("stripe customer debit"),
    "stripe_connect_payout": N_("stripe connect payout"),
    "zuora_subscription": N_("zuora subscription"),
    "stripe_subscription": N_("stripe subscription"),
}


def target_words(target: str) -> str:
    words = TARGET_WORDS.get(target)
    return Message(words) if words else target.replace("_", " ")


def _marked(paths: tuple[Path, ...]) -> tuple[list[str], frozenset[str]]:
    """The `Message(...)` templates with fields, and the `Message`/`N_` strings without."""
    templates: list[str] = []
    words: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in ("Message", "N_") or not node.args:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                if _FIELD.search(first.value):
                    templates.append(first.value)
                else:
                    words.add(first.value)
    return templates, frozenset(words)


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


@functools.cache
def _known() -> tuple[list[tuple[str, re.Pattern[str]]], frozenset[str]]:
    templates, words = _marked(SOURCES)
    # Longest first: a template that is a prefix of another must not win over it.
    ordered = sorted(set(templates), key=len, reverse=True)
    return [(template, _pattern(template)) for template in ordered], words


def said_again(sentence: str, depth: int = 0) -> str:
    """`sentence` (English, as stored) in the current language, as far as it is known."""
    patterns, words = _known()
    if sentence in words:
        return gettext(sentence)
    if depth > 3:
        return sentence
    for template, pattern in patterns:
        match = pattern.fullmatch(sentence)
        if match is None:
            continue
        values = {name: said_again(value, depth + 1) for name, value in match.groupdict().items()}
        return gettext(template).format(**values)
    return sentence
