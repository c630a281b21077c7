"""How each code a staff member meets is named: kinds, statuses, roles, scopes, steps,
notification events. Each enum's module names its members beside it (`LABELS.update`), so a
module holding a member has filled its labels; screens, selects, filters and sentences show
`label(member)`, never the raw value. `tests/unit/test_labels.py` fails when a member has none."""

from __future__ import annotations

import enum

from gateway.core.catalogues import gettext

LABELS: dict[enum.Enum, str] = {}


def label(member: enum.Enum) -> str:
    """The member's name for people, in the current language (its value if it has none)."""
    english = LABELS.get(member)
    return gettext(english) if english else str(member.value)
