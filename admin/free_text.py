"""Back-office forms: no card number or IBAN in any field, in any spelling, and no refusal
that repeats what was typed.

Staff type into these forms what they read in tickets; what a form takes is stored, audited and
shown on screens, so `staff_action` refuses a card number or IBAN before any action runs.
piccolo-admin answers a failed validation with pydantic's errors as JSON, which carry what was
typed: `FormModel` raises them again without it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from gateway.sensitive import sensitive_kind


class FormModel(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)
    # Fields parsed into numbers and kept only as numbers ("12, 13, 14"), not free text.
    NOT_FREE_TEXT: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise ValidationError.from_exception_data(
                error.title,
                [
                    {"type": e["type"], "loc": e["loc"], "input": None, "ctx": e.get("ctx", {})}
                    for e in error.errors()
                ],
            ) from None


def refuse_card_or_iban(data: BaseModel) -> None:
    """Refuse the form (as a message on it) if any free-text field holds a card number or an
    IBAN, in any spelling; the message names the field, never what was typed."""
    exempt: frozenset[str] = getattr(data, "NOT_FREE_TEXT", frozenset())
    for name, value in data:
        if name in exempt or not isinstance(value, str):
            continue
        label = name.replace("_", " ")
        found = sensitive_kind(value)
        if found == "card_number":
            raise ValueError(
                f"The {label} holds what looks like a card number. Card numbers are never "
                "stored: leave it out (refer to a card by its provider fingerprint)."
            )
        if found == "iban":
            raise ValueError(
                f"The {label} holds an IBAN. Leave it out: bank details live only in the "
                "change request, encrypted."
            )
