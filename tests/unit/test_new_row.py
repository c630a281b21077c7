"""Filing builds its row with new_row, not Piccolo's constructor: the same row, column for
column, whatever is given and whatever is left to its default."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from gateway.change_requests.new_row import new_row
from gateway.change_requests.tables import ChangeRequest

FILED: dict[str, Any] = {
    "kind": "iban_change",
    "status": "new",
    "ticket": "zendesk:1001",
    "ticket_url": None,
    "requester": {"name": "Camille"},
    "contact_reasons": ["Billing > Bank details"],
    "contact_reasons_fit_kind": True,
    "api_key": uuid.uuid4(),
    "client": "zendesk-acme",
    "idempotency_key": "k-1",
    "zuora_account_id": "A00000101",
    "backoffice_id": "shop-101",
}
MADE_ANEW = {"id", "created_at", "updated_at", "progress_at"}  # a new UUID, now()


def _same(built: ChangeRequest, piccolo: ChangeRequest) -> None:
    ours, theirs = vars(built), vars(piccolo)
    assert list(ours) == list(theirs)  # the same attributes, in the same order
    for name in ours:
        assert type(ours[name]) is type(theirs[name]), name
        if name not in MADE_ANEW:
            assert ours[name] == theirs[name], name


@pytest.mark.parametrize(
    "given",
    [FILED, {}, {**FILED, "id": uuid.uuid4(), "details": {"a": 1}}, {"status": "assigned"}],
)
def test_a_row_is_built_as_piccolo_builds_it(given: dict[str, Any]) -> None:
    _same(new_row(**given), ChangeRequest(**given))
    assert new_row(**given).to_dict().keys() == ChangeRequest(**given).to_dict().keys()


def test_defaults_made_anew_are_new_for_every_row() -> None:
    first, second = new_row(**FILED), new_row(**FILED)
    assert first.id != second.id
    assert isinstance(first.created_at, datetime) and first.created_at.tzinfo is not None
    first.contact_reasons_fit_kind = False
    assert new_row().contact_reasons is not new_row().contact_reasons  # a new list each time


def test_a_row_reads_and_writes_through_its_columns() -> None:
    row = new_row(**FILED)
    details: Any = {"iban_masked": "DE****3000"}
    row.details = details
    assert vars(row)["details"] is details
    assert row.ticket == "zendesk:1001"
    assert row._exists_in_db is False


def test_an_unknown_column_is_refused_as_piccolo_refuses_it() -> None:
    with pytest.raises(ValueError, match="Unrecognized columns"):
        ChangeRequest(colour="red")
    with pytest.raises(ValueError, match="Unrecognized columns"):
        new_row(colour="red")
