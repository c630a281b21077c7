"""Back-office forms: no card number or IBAN in any field, in any spelling, no refusal that
repeats what was typed, and every refusal a sentence in the reader's language.

Staff type into these forms what they read in tickets; what a form takes is stored, audited and
shown on screens, so `staff_action` refuses a card number or IBAN before any action runs.
piccolo-admin answers a failed validation with pydantic's errors as JSON (`{"detail": [{"loc",
"msg", ...}]}`, shown as "<last loc> field - <msg>"), which carry what was typed: `FormModel`
raises them again without it, each `msg` a sentence naming the field by its title, translated.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from gateway.core import sensitive
from gateway.core.errors import BillingError
from gateway.i18n import N_, Message, gettext, translate

_SENTENCES = {
    "missing": N_("Fill in “{field}”."),
    "string_too_short": N_("“{field}” needs at least {min_length} characters."),
    "string_too_long": N_("“{field}” takes at most {max_length} characters."),
    "too_short": N_("Choose at least one in “{field}”."),
    "int_parsing": N_("“{field}” takes a whole number."),
    "int_type": N_("“{field}” takes a whole number."),
    "greater_than_equal": N_("“{field}” must be at least {ge}."),
    "less_than_equal": N_("“{field}” must be at most {le}."),
}
_ANY_OTHER = N_("“{field}” is not valid: correct it and send the form again.")


def _sentence(model: type[BaseModel], error: Any) -> str:
    name = str(error["loc"][0]) if error["loc"] else ""
    field = model.model_fields.get(name)
    title = gettext(field.title) if field is not None and field.title else name
    if error["type"] == "value_error" and "error" in error.get("ctx", {}):
        return translate(str(error["ctx"]["error"]))
    template = _SENTENCES.get(error["type"], _ANY_OTHER)
    values = {key: value for key, value in error.get("ctx", {}).items() if key != "error"}
    return translate(Message(template, field=title, **values))


class FormModel(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)
    # Fields parsed into numbers and kept only as numbers ("12, 13, 14"), not free text.
    NOT_FREE_TEXT: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            details: list[InitErrorDetails] = [
                {
                    "type": PydanticCustomError(
                        "value_error", "{sentence}", {"sentence": sentence}
                    ),
                    "loc": e["loc"][:1],
                    "input": None,
                }
                for e in error.errors()
                for sentence in [_sentence(type(self), e)]
            ]
            raise ValidationError.from_exception_data(error.title, details) from None


def refuse_card_or_iban(data: BaseModel) -> None:
    """Refuse the form (as a message on it) if any free-text field holds a card number or an
    IBAN, in any spelling; the message names the field, never what was typed."""
    exempt: frozenset[str] = getattr(data, "NOT_FREE_TEXT", frozenset())
    for name, value in data:
        if name in exempt or not isinstance(value, str):
            continue
        field = type(data).model_fields[name]
        label = gettext(field.title) if field.title else name.replace("_", " ")
        try:
            sensitive.refuse_card_or_iban(
                value,
                card=Message(
                    "“{field}” holds what looks like a card number. Card numbers are never "
                    "stored: leave it out (refer to a card by its provider fingerprint).",
                    field=label,
                ),
                iban=Message(
                    "“{field}” holds an IBAN. Leave it out: bank details live only in the "
                    "change request, encrypted.",
                    field=label,
                ),
            )
        except BillingError as refusal:
            raise ValueError(translate(refusal.detail)) from None
