"""piccolo-admin's answers, said in the reader's language on their way out of the guard.

piccolo-admin builds its screens from JSON: table schemas (column titles, help texts, the
choices of a select), the forms' names, descriptions and fields, the sidebar's links, the
site name, and the rows themselves. Everything English in them is one of the project's marked
strings (admin/screen_labels.py, the help texts of admin/screens.py, the forms' models,
gateway/i18n/labels.py), so the guard looks each up in the reader's catalogue. Rows show dates
in the reader's time zone and language, and nothing (not NULL) where there is no value.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from piccolo.columns import Date, Timestamptz
from piccolo.table import Table
from piccolo_admin.endpoints import FormConfig

from admin import estimated_counts
from admin.screen_labels import COLUMN_TITLES, SCREEN_LABELS
from admin.triage_reasons import translated_why
from gateway.i18n import N_, gettext
from gateway.i18n.formatting import format_date, format_datetime
from gateway.i18n.labels import LABELS, label
from gateway.staff.roles import Role

Json = Any

TABLE_SCHEMA = re.compile(r"^/api/tables/(\w+)/schema/$")
TABLE_ROWS = re.compile(r"^/api/tables/(\w+)/$")
TABLE_COUNT = re.compile(r"^/api/tables/(\w+)/count/$")
FORM_SCHEMA = re.compile(r"^/api/forms/([\w-]+)/schema/$")
FORM_POST = re.compile(r"^/api/forms/([\w-]+)/$")


def _choice_label(column: Any, value: Any, display_name: str) -> str:
    choices = column._meta.choices if column is not None else None
    if isinstance(choices, type) and issubclass(choices, enum.Enum):
        try:
            member = choices(value)
        except ValueError:
            member = None
        if member is not None:
            english = LABELS.get(member) or SCREEN_LABELS.get(member)
            if english:
                return gettext(english)
    return gettext(display_name)


def _translate_choices(choices: Json, column: Any = None) -> None:
    if not isinstance(choices, dict):
        return
    for choice in choices.values():
        if isinstance(choice, dict) and isinstance(choice.get("display_name"), str):
            choice["display_name"] = _choice_label(
                column, choice.get("value"), choice["display_name"]
            )


def table_schema(table: type[Table] | None, body: Json) -> Json:
    for name, field in (body.get("properties") or {}).items():
        if name in COLUMN_TITLES:
            field["title"] = gettext(COLUMN_TITLES[name])
        extra = field.get("extra") or {}
        if isinstance(extra.get("help_text"), str):
            extra["help_text"] = gettext(extra["help_text"])
        column = table._meta.get_column_by_name(name) if table is not None else None
        _translate_choices(extra.get("choices"), column)
    extra = body.get("extra") or {}
    if isinstance(extra.get("help_text"), str):
        extra["help_text"] = gettext(extra["help_text"])
    return body


def _parsed(value: str, kind: type[date]) -> date | None:
    try:
        return kind.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def rows(table: type[Table] | None, body: Json) -> Json:
    timestamps, dates = set(), set()
    if table is not None:
        for column in table._meta.columns:
            if isinstance(column, Timestamptz):
                timestamps.add(column._meta.name)
            elif isinstance(column, Date):
                dates.add(column._meta.name)
    for row in body.get("rows") or ():
        for name, value in row.items():
            if value is None:
                row[name] = ""
            elif isinstance(value, str) and name in timestamps:
                moment = _parsed(value, datetime)
                row[name] = format_datetime(moment, width="short") if moment else value  # type: ignore[arg-type]
            elif isinstance(value, str) and name in dates:
                day = _parsed(value, date)
                row[name] = format_date(day) if day else value
            elif name == "why" and isinstance(value, str):
                row[name] = translated_why(value)
    return body


def counted() -> Callable[[Json], Json]:
    """A count's answer, marked `"estimate": true` when it was estimated
    (admin/estimated_counts.py): the screen then says "about N (estimate)" (`bgCount`)."""
    note: list[bool] = []
    estimated_counts.estimated.set(note)

    def mark(body: Json) -> Json:
        if isinstance(body, dict):
            body["estimate"] = bool(note)
        return body

    return mark


def _translate_form(form: Json) -> Json:
    if isinstance(form, dict):
        for key in ("name", "description"):
            if isinstance(form.get(key), str):
                form[key] = gettext(form[key])
    return form


def forms(body: Json) -> Json:
    if isinstance(body, list):
        return [_translate_form(form) for form in body]
    if isinstance(body, dict) and "grouped" in body:
        body["grouped"] = {
            gettext(group): [_translate_form(form) for form in members]
            for group, members in body["grouped"].items()
        }
        body["ungrouped"] = [_translate_form(form) for form in body.get("ungrouped") or ()]
    return body


def form_schema(body: Json, live: dict[str, dict[str, str]]) -> Json:
    for key in ("title", "description"):
        if isinstance(body.get(key), str):
            body[key] = gettext(body[key])
    for name, field in (body.get("properties") or {}).items():
        for key in ("title", "description"):
            if isinstance(field.get(key), str):
                field[key] = gettext(field[key])
        if name in live:
            field.setdefault("extra", {})["choices"] = {
                value: {"display_name": text, "value": value} for value, text in live[name].items()
            }
        else:
            _translate_choices((field.get("extra") or {}).get("choices"))
    return body


# The forms' models say their refusals as sentences (admin/free_text.py): a pydantic error
# reaches the guard as a `value_error` holding one. Anything else (a model without them) is
# still named by its field, never shown as pydantic's JSON.
_NOT_VALID = N_("“{field}” is not valid.")


def _validation_sentence(error: Json, titles: dict[str, str]) -> str:
    if error.get("type") == "value_error":
        return gettext(str(error.get("msg", "")).removeprefix("Value error, "))
    location = error.get("loc") or ["?"]
    field = titles.get(str(location[-1]), str(location[-1]))
    return gettext(_NOT_VALID).format(field=field)


def field_titles(form: FormConfig) -> dict[str, str]:
    """Each field's title as the form shows it, in the reader's language."""
    properties = form.pydantic_model.model_json_schema().get("properties", {})
    return {name: gettext(field.get("title", name)) for name, field in properties.items()}


def form_refusal(body: Json, titles: dict[str, str]) -> Json:
    """A form's refused fields as one sentence per field (never pydantic's JSON)."""
    errors = body.get("detail") if isinstance(body, dict) else None
    if isinstance(errors, list):
        sentences = [_validation_sentence(error, titles) for error in errors]
        return {"custom_form_error": " ".join(dict.fromkeys(sentences))}
    return body


def links(body: Json) -> Json:
    return {gettext(name): url for name, url in body.items()} if isinstance(body, dict) else body


def site_name(role: Role, sandbox: bool) -> str:
    name = gettext("Back office · {role}").format(role=label(role))
    return name + (" " + gettext("(SANDBOX)") if sandbox else "")
