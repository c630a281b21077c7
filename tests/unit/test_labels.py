"""Every code a staff member can meet has a name for people (`LABELS.update` beside its enum),
and the name is said in each language."""

from __future__ import annotations

import enum

import pytest

from gateway.api_keys.scopes import Scope
from gateway.change_requests.lifecycle import TriageKind
from gateway.change_requests.states import Kind, Status, Transition
from gateway.i18n import use_language
from gateway.i18n.labels import LABELS, label
from gateway.notifications.events import EventType
from gateway.staff.roles import Role


@pytest.mark.parametrize("codes", [Kind, Status, Transition, TriageKind, Role, Scope, EventType])
def test_every_member_has_a_label(codes: type[enum.Enum]) -> None:
    missing = [member for member in codes if member not in LABELS]
    assert not missing, f"name these beside their enum (LABELS.update): {missing}"


def test_a_label_is_said_in_the_readers_language() -> None:
    assert label(Status.WAITING_CUSTOMER) == "Waiting on the customer"
    with use_language("fr"):
        assert label(Kind.PLAN_CHANGE) != "Plan change (upsell)"
    with use_language("ar"):
        assert label(Role.TEAM_LEAD) == "رئيس الفريق"
