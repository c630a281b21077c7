"""Every list a staff member opens has a title, every column a label and every code a name:
piccolo-admin would otherwise show `my_queue`, `Ticket Id` and `in_progress`."""

from __future__ import annotations

import enum

import pytest
from piccolo.table import Table

from admin import screens
from admin.screen_labels import COLUMN_TITLES, SCREEN_LABELS, TABLE_TITLES
from admin.triage_reasons import translated_why
from gateway.i18n import use_language
from gateway.i18n.labels import LABELS

SCREENS = [
    table
    for table in vars(screens).values()
    if isinstance(table, type) and issubclass(table, Table) and table is not Table
]


@pytest.mark.parametrize("table", SCREENS, ids=lambda table: table._meta.tablename)
def test_each_screen_and_column_has_a_label(table: type[Table]) -> None:
    assert table._meta.tablename in TABLE_TITLES
    missing = [c._meta.name for c in table._meta.columns if c._meta.name not in COLUMN_TITLES]
    assert not missing, f"add these columns to admin.screen_labels.COLUMN_TITLES: {missing}"
    for column in table._meta.columns:
        choices = column._meta.choices
        if isinstance(choices, type) and issubclass(choices, enum.Enum):
            for member in choices:
                if not hasattr(member.value, "display_name"):  # Choice members name themselves
                    assert member in LABELS or member in SCREEN_LABELS, member


def test_why_a_request_is_in_triage_reads_in_the_leads_language() -> None:
    stored = "Expired: no action by sam for 4 days. Contact reasons do not fit"
    with use_language("fr"):
        assert translated_why(stored) == (
            "Expirée : aucune action de sam depuis 4 jours. Motifs de contact incohérents"
        )
    assert translated_why("Something new") == "Something new"  # an unknown shape stays as it is
