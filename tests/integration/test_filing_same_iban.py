"""An IBAN change is filed in one statement when nobody filed its IBAN (the common case): the
statement itself checks that, in its own snapshot. When a request not cancelled has the IBAN,
nothing is written; the filing reads those requests and files again, so the answer, the stored
row, the audit entry and the FILED event all name them, as before."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from audit.store import read_payload
from gateway.change_requests import queries, service
from gateway.change_requests.same_iban import same_iban
from gateway.change_requests.tables import ChangeRequest
from gateway.core.db.connection import fetch, transaction
from tests.database import auth
from tests.payloads import iban_change

URL = "/v1/change-requests"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each read of the requests already filed with an IBAN, by the filing service."""
    seen: list[str] = []

    async def counted(iban_hash: str, *args: Any) -> Any:
        seen.append(iban_hash)
        return await same_iban(iban_hash, *args)

    monkeypatch.setattr(service, "same_iban", counted)
    return seen


async def _file(http: httpx.AsyncClient, key: str, body: dict[str, Any]) -> Any:
    response = await http.post(URL, json=body, headers=auth(key, uuid.uuid4().hex))
    assert response.status_code == 201, response.text
    return response.json()


async def _count(table: str) -> int:
    return int((await fetch(f"SELECT count(*) AS n FROM {table}"))[0]["n"])


async def _filed_entry_details(request_id: str) -> dict[str, Any]:
    [row] = await fetch(
        "SELECT * FROM audit_records WHERE action = 'change_request.create.succeeded'"
        " AND target_id = $1",
        request_id,
    )
    payload = await read_payload(row)
    assert payload is not None
    details: dict[str, Any] = payload["after"]["details"]
    return details


async def test_a_new_iban_is_filed_without_a_read_of_its_own(
    http: httpx.AsyncClient, api_key: str, reads: list[str]
) -> None:
    filed = await _file(http, api_key, iban_change(ticket="SI-1"))
    assert reads == []
    assert filed["payload"]["other_requests_with_same_iban"] == []
    assert filed["payload"]["iban_on_file_for_another_customer"] is False
    assert await _count("change_requests") == 1


async def test_an_iban_on_file_is_read_and_named_everywhere_the_filing_is_told(
    http: httpx.AsyncClient, api_key: str, reads: list[str]
) -> None:
    first = await _file(http, api_key, iban_change(ticket="SI-2"))
    other = iban_change(ticket="SI-3")
    other["customer"] = {"zuora_account_id": "A00000999", "backoffice_id": "shop-999"}
    elsewhere = await _file(http, api_key, other)
    second = await _file(http, api_key, iban_change(ticket="SI-4"))
    assert len(reads) == 2  # the first had nothing to read

    assert elsewhere["payload"]["iban_on_file_for_another_customer"] is True
    assert second["payload"]["other_requests_with_same_iban"] == [first["id"], elsewhere["id"]]
    assert second["payload"]["iban_on_file_for_another_customer"] is True
    # one row each, one entry each: the statement that found the IBAN on file wrote nothing
    assert await _count("change_requests") == 3
    assert await _count("notification_events WHERE type = 'change_request.filed'") == 3
    [stored] = await fetch(
        "SELECT details FROM change_requests WHERE id = $1", uuid.UUID(second["id"])
    )
    assert '"iban_on_file_for_another_customer": true' in stored["details"]
    details = await _filed_entry_details(second["id"])
    assert details["other_requests_with_same_iban"] == [first["id"], elsewhere["id"]]
    assert details["iban_on_file_for_another_customer"] is True
    [event] = await fetch(
        "SELECT payload::text AS payload FROM notification_events WHERE subject_id = $1",
        second["id"],
    )
    assert second["id"] in event["payload"]
    read = await http.get(f"{URL}/{second['id']}", headers=auth(api_key))
    assert read.json() == second


async def test_a_cancelled_request_does_not_hold_its_iban(
    http: httpx.AsyncClient, api_key: str, reads: list[str]
) -> None:
    first = await _file(http, api_key, iban_change(ticket="SI-5"))
    cancelled = await http.post(
        f"{URL}/{first['id']}/cancel",
        json={"reason": "The customer keeps the old account."},
        headers=auth(api_key, uuid.uuid4().hex),
    )
    assert cancelled.status_code == 200, cancelled.text
    again = await _file(http, api_key, iban_change(ticket="SI-6"))
    assert again["payload"]["other_requests_with_same_iban"] == []
    assert reads == []


async def test_the_statement_writes_nothing_when_the_iban_is_on_file(
    http: httpx.AsyncClient, api_key: str
) -> None:
    first = await _file(http, api_key, iban_change(ticket="SI-7"))
    [row] = await fetch(
        "SELECT iban_hash FROM change_requests WHERE id = $1", uuid.UUID(first["id"])
    )
    [key] = await fetch("SELECT id FROM api_keys")
    filed = ChangeRequest(
        kind="iban_change",
        status="new",
        ticket="zendesk:SI-8",
        requester={"name": "Ana"},
        contact_reasons=[],
        details={},
        api_key=key["id"],
        client="test-tool",
        idempotency_key="si-8",
        zuora_account_id="A00000101",
        iban_hash=row["iban_hash"],
    )
    answer = (key["id"], "si-8", 201, "application/json", b"{}")
    fresh = ("fingerprint", "POST", URL)
    with pytest.raises(queries.IbanOnFile):
        await queries.file(filed, answer, fresh=fresh, unseen_iban=row["iban_hash"])
    assert await _count("change_requests") == 1
    assert not await fetch("SELECT 1 FROM idempotency_keys WHERE key = 'si-8'")


async def test_a_filing_of_an_iban_another_is_filing_waits_for_it_and_finds_it(
    http: httpx.AsyncClient, api_key: str
) -> None:
    """Two processes filing one new IBAN at the same moment: the second statement's check
    waits until the first has committed, then finds it (before, each read in its own snapshot
    and both said nobody had it)."""
    await _file(http, api_key, iban_change(ticket="SI-9"))  # the API key's record in use
    [key] = await fetch("SELECT id FROM api_keys")

    def row(ticket: str) -> ChangeRequest:
        return ChangeRequest(
            kind="iban_change",
            status="new",
            ticket=f"zendesk:{ticket}",
            requester={"name": "Ana"},
            contact_reasons=[],
            details={},
            api_key=key["id"],
            client="test-tool",
            idempotency_key=ticket,
            zuora_account_id="A00000101",
            iban_hash="hash-of-a-new-iban",
        )

    def answer(ticket: str) -> Any:
        return (key["id"], ticket, 201, "application/json", b"{}")

    fresh = ("fingerprint", "POST", URL)
    first_written, first_may_commit = asyncio.Event(), asyncio.Event()

    async def first() -> None:  # filed, and held uncommitted until told
        async with transaction():
            await queries.file(
                row("SI-10"), answer("SI-10"), fresh=fresh, unseen_iban="hash-of-a-new-iban"
            )
            first_written.set()
            await first_may_commit.wait()

    async def second() -> None:  # on a connection of its own, as another process's
        with pytest.raises(queries.IbanOnFile):
            await queries.file(
                row("SI-11"), answer("SI-11"), fresh=fresh, unseen_iban="hash-of-a-new-iban"
            )

    holding = asyncio.create_task(first())
    try:
        await first_written.wait()
        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.5)
        assert not waiting.done()  # it waits for the first filing
    finally:
        first_may_commit.set()
        await holding
    await asyncio.wait_for(waiting, timeout=5)  # and then finds it
    assert await _count("change_requests WHERE iban_hash = 'hash-of-a-new-iban'") == 1
