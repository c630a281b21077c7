"""Filing's one statement (lock the key's record, insert, store the answer): a retry that took a
key over from a slow first attempt never files a second request; it answers what the first
attempt committed."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest

from gateway.change_requests import queries
from gateway.change_requests.tables import ChangeRequest
from gateway.core.db.connection import engine, fetch, transaction
from gateway.idempotency import queries as idempotency_queries
from gateway.idempotency import service as idempotency
from tests.database import auth
from tests.payloads import iban_change

URL = "/v1/change-requests"


async def _api_key_id() -> uuid.UUID:
    [row] = await fetch("SELECT id FROM api_keys")
    key_id: uuid.UUID = row["id"]
    return key_id


def _row(api_key_id: uuid.UUID, key: str, ticket: str) -> ChangeRequest:
    return ChangeRequest(
        kind="plan_change",
        status="new",
        ticket=ticket,
        requester={"name": "Ana"},
        contact_reasons=[],
        details={},
        api_key=api_key_id,
        client="test-tool",
        idempotency_key=key,
        zuora_account_id="A00000101",
    )


async def _count() -> int:
    return int((await fetch("SELECT count(*) AS n FROM change_requests"))[0]["n"])


async def test_an_answer_committed_under_the_key_is_returned_and_nothing_is_filed(
    http: httpx.AsyncClient, api_key: str
) -> None:
    first = await http.post(URL, json=iban_change(), headers=auth(api_key, "race-1"))
    assert first.status_code == 201
    api_key_id = await _api_key_id()
    async with transaction():
        earlier = await queries.file(
            _row(api_key_id, "race-1", "zendesk:9001"),
            (api_key_id, "race-1", 201, "application/json", b"{}"),
        )
    assert earlier == first.content
    assert await _count() == 1
    [stored] = await fetch("SELECT response_body FROM idempotency_keys WHERE key = 'race-1'")
    assert stored["response_body"] == first.content


async def test_a_retry_waits_for_the_first_attempt_then_answers_what_it_committed(
    http: httpx.AsyncClient, api_key: str
) -> None:
    await http.get("/health/live")  # the app's pool is up
    api_key_id = await _api_key_id()
    claimed = await idempotency.claim(api_key_id, "race-2", "fingerprint", "POST", URL)
    assert isinstance(claimed, idempotency.Claimed)
    first = await asyncpg.connect(engine().config["dsn"])
    try:
        # The first attempt, mid-transaction: it holds the key's record.
        await first.execute("BEGIN")
        await first.execute("SELECT 1 FROM idempotency_keys WHERE key = 'race-2' FOR NO KEY UPDATE")

        async def retry() -> bytes | None:
            async with transaction():
                return await queries.file(
                    _row(api_key_id, "race-2", "zendesk:9002"),
                    (api_key_id, "race-2", 201, "application/json", b'{"retry":true}'),
                )

        retrying = asyncio.create_task(retry())
        for _ in range(200):
            waiting = await first.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            )
            if waiting:
                break
            await asyncio.sleep(0.02)
        assert waiting, "the retry never waited for the first attempt"
        await first.execute(
            "UPDATE idempotency_keys SET state = 'done', response_status = 201,"
            " response_body = '\\x7b7d'::bytea WHERE key = 'race-2'"
        )
        await first.execute("COMMIT")
        assert await retrying == b"{}"
    finally:
        await first.close()
    assert await _count() == 0


async def test_the_claim_relaxes_only_its_own_commit(http: httpx.AsyncClient, api_key: str) -> None:
    """The claim skips its WAL flush; the connection's next transaction (a filing) does not."""
    await http.get("/health/live")
    api_key_id = await _api_key_id()
    connection = await asyncpg.connect(engine().config["dsn"])
    try:
        inserted = await connection.fetch(
            idempotency_queries.INSERT, uuid.uuid4(), api_key_id, "relaxed", "f", "POST", URL, None
        )
        assert inserted
        assert await connection.fetchval("SHOW synchronous_commit") == "on"
    finally:
        await connection.close()
    with pytest.raises(RuntimeError):
        async with transaction():
            await idempotency.claim(api_key_id, "in-a-transaction", "f", "POST", URL)
