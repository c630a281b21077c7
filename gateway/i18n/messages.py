"""`make messages`: extract every marked string into `messages.pot` and add the new ones to
each language's catalogue (translators then fill them in). The catalogue test extracts with
the same function, so what the test checks is what a translator is given.

Run as `python -m gateway.i18n.messages`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from gateway.core.catalogues import LANGUAGES, LOCALE_DIR, catalogue_path

ROOT = LOCALE_DIR.parent.parent
KEYWORDS = {"_": None, "gettext": None, "N_": None, "Message": None, "ngettext": (1, 2)}
TRANSLATED = [language for language in LANGUAGES if language != "en"]


def _skip(path: str) -> bool:
    return not any(part in path for part in ("/.venv", "/tests/", "/migrations/", "/node_modules"))


def extract() -> Catalog:
    """Every string the project marks, with where it is (file and line)."""
    with (LOCALE_DIR / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    template = Catalog(project="billing-gateway", fuzzy=False)
    found: Iterator = extract_from_dir(  # type: ignore[type-arg]
        ROOT,
        method_map,
        options_map,
        keywords=KEYWORDS,
        directory_filter=lambda path: _skip(str(Path(path).resolve())),
    )
    for filename, line, message, comments, context in found:
        template.add(message, None, [(filename, line)], auto_comments=comments, context=context)
    return template


def read_catalogue(language: str) -> Catalog:
    with catalogue_path(language).open("rb") as po:
        return read_po(po, locale=language)


def update() -> None:
    template = extract()
    buffer = io.BytesIO()
    write_po(buffer, template, width=100, sort_by_file=True)
    (LOCALE_DIR / "messages.pot").write_bytes(buffer.getvalue())
    for language in TRANSLATED:
        catalogue = read_catalogue(language)
        known, created = {message.id for message in catalogue}, catalogue.creation_date
        catalogue.update(template, no_fuzzy_matching=True)
        if {message.id for message in catalogue} == known:
            catalogue.creation_date = created  # nothing new: no diff from a date alone
        buffer = io.BytesIO()
        write_po(buffer, catalogue, width=100, sort_by_file=True, ignore_obsolete=True)
        catalogue_path(language).write_bytes(buffer.getvalue())
        missing = sum(1 for message in catalogue if message.id and not message.string)
        print(f"{language}: {len(catalogue)} messages, {missing} without a translation")


if __name__ == "__main__":
    update()
