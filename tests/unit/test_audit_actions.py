"""The audit action catalogue: one grammar, every action declared once, and no module writing an
action's name as a string instead of naming its member."""

from __future__ import annotations

import re
from pathlib import Path

from audit.actions import GRAMMAR, OUTCOMES, Action, Subject

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = sorted({action.value.split(".")[0] for action in Action})
# A quoted `<resource>.<verb>.<outcome>` for a catalogue resource, in Python source or its SQL.
WRITTEN = re.compile(rf"[\"']({'|'.join(RESOURCES)})\.[a-z_]+\.[a-z_]+[\"']")


def test_every_action_follows_the_grammar_once() -> None:
    assert {"succeeded", "refused", "failed", "recorded", "started", "skipped"} == OUTCOMES
    for action in Action:
        assert GRAMMAR.fullmatch(action.value), action.value
        assert action.name == action.value.upper().replace(".", "_"), action.name
    assert len({action.value for action in Action}) == len(Action)


def test_an_action_outside_the_grammar_is_refused_by_it() -> None:
    for name in ("correction.succeeded", "fulfilment.step.retry.succeeded", "staff.mfa.enrolled"):
        assert not GRAMMAR.fullmatch(name)


def test_the_subject_comes_from_the_row_by_the_rule() -> None:
    request = {"id": 1, "zuora_account_id": "A1", "backoffice_id": "shop-1"}
    assert Action.CHANGE_REQUEST_CANCEL_SUCCEEDED.subject.of(request) == "shop-1"
    assert Subject.CUSTOMER.of({"stripe_customer_id": "4111111111111111"}) is None  # a card
    assert Action.CORRECTION_FILE_REFUND_SUCCEEDED.subject.of({"account_id": "acct_1"}) == "acct_1"
    assert Subject.BLOCKED.of({"kind": "customer", "value": "cus_1"}) == "cus_1"
    assert Subject.BLOCKED.of({"kind": "ip", "value": "192.0.2.1"}) is None
    assert Action.STAFF_LOGIN_SUCCEEDED.subject.of(request) is None


def test_no_module_writes_an_action_as_a_string() -> None:
    found = []
    for package in ("gateway", "admin", "audit", "adapters"):
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative == "audit/actions.py" or relative.startswith("gateway/migrations/"):
                continue
            text = path.read_text(encoding="utf-8")
            found += [f"{relative}: {match.group(0)}" for match in WRITTEN.finditer(text)]
    assert found == []


def test_every_old_spelling_maps_to_a_catalogue_action() -> None:
    migration = (ROOT / "gateway/migrations/gateway_2026_12_12t09_00_00_000000.py").read_text()
    mapped = re.findall(r"\('([a-z_.]+)', '([a-z_.]+)'\)", migration)
    assert len(mapped) == len(dict(mapped)) > 30
    names = {action.value for action in Action}
    assert {new for _, new in mapped} <= names
    assert {old for old, _ in mapped}.isdisjoint(names)  # an old spelling is never written now
