"""What every request body shares: unknown fields refused, text without control characters."""

from __future__ import annotations

from msgspec import Meta, Struct

# No control characters: they have no place in names or notes, and PostgreSQL refuses NUL.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


def text(max_length: int, min_length: int = 1) -> Meta:
    return Meta(min_length=min_length, max_length=max_length, pattern=PRINTABLE)


class Strict(Struct, forbid_unknown_fields=True, kw_only=True):
    """Unknown fields are refused: a typo must not pass silently."""
