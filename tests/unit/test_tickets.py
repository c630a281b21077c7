# ruff: noqa: RUF001  (full-width and Arabic-Indic characters are the point)
"""One ticket format: every spelling people type becomes "system:id"; what is not a ticket is
refused with a sentence (gateway/tickets.py)."""

from __future__ import annotations

import pytest

from gateway.core.errors import BillingError, ErrorCode
from gateway.tickets import (
    canonical_ticket,
    display_ticket,
    ticket_lookup,
)
from tests.spellings import INVISIBLE

SPELLINGS = [
    "zendesk:1001",
    "zendesk #1001",
    "Zendesk:1001",
    "ZENDESK 1001",
    "zendesk#1001",
    "zendesk: #1001",
    "zendesk::1001",  # a separator typed twice, or two of them
    "zendesk#:1001",
    "zendesk: : # 1001",
    "  zendesk #1001  ",
    "zendesk\u00a0#1001",
    "ｚｅｎｄｅｓｋ ＃１００１",  # full-width letters, sign and digits
    "zendesk：１００１",  # full-width colon
    "zendesk #١٠٠١",  # Arabic-Indic digits
    "zendesk #۱۰۰۱",  # extended Arabic-Indic digits
    "zendesk #१००१",  # Devanagari digits
    *(f"zen{char}desk #10{char}01" for char in INVISIBLE.values()),
]


@pytest.mark.parametrize("typed", SPELLINGS)
def test_every_spelling_is_one_ticket(typed: str) -> None:
    assert canonical_ticket(typed) == "zendesk:1001"


@pytest.mark.parametrize(
    "typed",
    ["1001", "#1001", " # 1001 ", ":1001", "zendesk #1001", "Zendesk:1001", "zendesk::1001"],
)
def test_the_id_alone_takes_the_system_given(typed: str) -> None:
    assert canonical_ticket(typed, "Zendesk") == "zendesk:1001"


def test_ids_keep_their_case_and_other_systems_are_kept() -> None:
    assert canonical_ticket("jira ABC-12") == "jira:ABC-12"
    assert canonical_ticket("other:call with the customer") == "other:call with the customer"
    assert canonical_ticket("ref 7 and more", "other") == "other:ref 7 and more"


def _refusal(typed: object, system: str | None = None) -> BillingError:
    with pytest.raises(BillingError) as refused:
        canonical_ticket(typed, system)  # type: ignore[arg-type]
    assert refused.value.code is ErrorCode.TICKET_INVALID
    assert refused.value.status == 422
    assert refused.value.detail.endswith(".")
    return refused.value


@pytest.mark.parametrize(
    ("typed", "system"),
    [
        ("", "zendesk"),
        ("   ", "zendesk"),
        ("#", "zendesk"),
        ("zendesk:", None),
        ("zendesk #", None),
        ("\u200b\u200b", "zendesk"),  # nothing but invisible characters
        ("1001", None),  # no system
        ("#1001", None),
        (":1001", None),
        ("zendesk:10\x0001", None),  # NUL
        ("zendesk:1001\x1b[31m", None),  # an ESC sequence
        ("zendesk:10\n01", None),
        ("zendesk:10\x8501", None),  # a C1 control
        ("x" * 301, None),
        ("zendesk:" + "1" * 101, None),
        ("zen$desk:1001", None),
        ("zen desk:1001", None),
        ("1zendesk:1001", None),
        ("z" * 41 + ":1", None),
        ("a few words", None),
        ("1001", "zen/desk"),
        ("freshdesk #5", "zendesk"),  # two systems that disagree
        ("freshdesk:5", "zendesk"),
        (1001, None),
    ],
)
def test_what_is_not_a_ticket_is_refused(typed: object, system: str | None) -> None:
    _refusal(typed, system)


def test_refusals_say_what_to_write() -> None:
    assert "zendesk:1001" in _refusal("1001").detail
    assert "freshdesk" in _refusal("freshdesk #5", "zendesk").detail
    assert "control character" in _refusal("zendesk:1\x00").detail


def test_display_form() -> None:
    assert display_ticket("zendesk:1001") == "zendesk #1001"
    assert display_ticket("other:call with the customer") == "other #call with the customer"
    assert display_ticket(None) == ""
    assert display_ticket("not canonical") == "not canonical"


def test_a_lookup_without_system_matches_the_id_alone() -> None:
    assert ticket_lookup("Zendesk #1001").ticket == "zendesk:1001"
    found = ticket_lookup(" #１００１ ")
    assert (found.ticket, found.ticket_id) == (None, "1001")
