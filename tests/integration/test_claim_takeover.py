"""A retry takes over at once the Idempotency-Key of a gateway process that died holding it.

Another process is played by its lease alone: a session holding the advisory lock a gateway
process holds while it lives. Killing that session without a goodbye (as `kill -9` of the process
does) is what PostgreSQL sees when the process dies.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest

from gateway.core.db.connection import fetch, fetch_value
from gateway.edge.body_guard import fingerprint
from gateway.idempotency import queries, service
from gateway.idempotency.lease import LEASE_NAMESPACE, lease
from tests.database import auth
from tests.payloads import iban_change

URL = "/v1/change-requests"


async def _claim_held_by_another_process(key: str, body: dict[str, Any]) -> asyncpg.Connection:
    """What a process that took `key` and is still working on it leaves: a running claim that
    names its lease, and the lease held on a connection of its own."""
    other_process = 7_000_000 + uuid.uuid4().int % 1_000_000
    lease = await asyncpg.connect(str(await _dsn()))
    await lease.execute("SELECT pg_advisory_lock($1, $2)", LEASE_NAMESPACE, other_process)
    await fetch(
        "INSERT INTO idempotency_keys (id, api_key, key, fingerprint, method, path, state,"
        " locked_at, created_at, holder) SELECT $1, id, $2, $3, 'POST', $4, 'running', now(),"
        " now(), $5 FROM api_keys",
        uuid.uuid4(),
        key,
        fingerprint("POST", URL, json.dumps(body).encode(), body),
        URL,
        other_process,
    )
    return lease


async def _dsn() -> str:
    from gateway.core.db.connection import engine

    return str(engine().config["dsn"])


async def test_a_retry_takes_over_the_key_of_a_killed_process_at_once(
    http: httpx.AsyncClient, api_key: str
) -> None:
    body = iban_change()
    lease = await _claim_held_by_another_process("held-by-the-dead", body)

    alive = await http.post(URL, json=body, headers=auth(api_key, "held-by-the-dead"))
    assert alive.status_code == 409
    assert alive.json()["code"] == "idempotency_request_in_progress"

    lease.terminate()  # the process is killed: its socket closes, PostgreSQL ends its session
    started = time.monotonic()
    while True:
        retry = await http.post(URL, json=body, headers=auth(api_key, "held-by-the-dead"))
        if retry.status_code != 409 or time.monotonic() - started > 70:
            break
    took = time.monotonic() - started
    assert retry.status_code == 201, retry.text
    assert took < 2, f"the key was taken over after {took:.1f} s"
    print(f"\nkey of the killed process taken over {took * 1000:.0f} ms after the kill")
    assert await fetch_value("SELECT count(*) FROM change_requests") == 1


async def test_a_live_process_keeps_its_key(http: httpx.AsyncClient, api_key: str) -> None:
    body = iban_change()
    lease = await _claim_held_by_another_process("held-by-the-living", body)
    try:
        for _ in range(3):
            answer = await http.post(URL, json=body, headers=auth(api_key, "held-by-the-living"))
            assert answer.status_code == 409
        assert await fetch_value("SELECT count(*) FROM change_requests") == 0
    finally:
        await lease.close()


async def _until(check: Callable[[], Awaitable[object]], seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {seconds} s")


async def _lease_held() -> bool:
    return lease.held


async def test_posts_go_on_while_a_lost_lease_session_lives_on(
    http: httpx.AsyncClient, api_key: str
) -> None:
    """The lease's connection is lost on this side (a NAT or conntrack drop, a half-open TCP
    connection) while its session lives on in PostgreSQL, keeping the old id locked. Played by
    another session that queues for the id and so holds it the moment the lease lets go."""
    await lease.ensure_held()
    old_id, lease_connection = lease.id, lease._connection
    assert old_id is not None and lease_connection is not None
    old_session = await asyncpg.connect(await _dsn())
    try:
        holding = asyncio.create_task(
            old_session.execute("SELECT pg_advisory_lock($1, $2)", LEASE_NAMESPACE, old_id)
        )
        await _until(  # queued behind the lease's session
            lambda: fetch_value(
                "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND classid::bigint = $1 AND objid::bigint = $2",
                LEASE_NAMESPACE,
                old_id,
            )
        )
        lease_connection.terminate()  # lost on this side only
        await holding  # the old id stays locked, by a session that is not the lease's

        started = time.monotonic()
        answer = await asyncio.wait_for(
            http.post(URL, json=iban_change(), headers=auth(api_key, "after-the-drop")), 10
        )
        took = time.monotonic() - started
        assert answer.status_code == 201, answer.text
        assert took < 2, f"the POST waited {took:.1f} s for the lease"

        await _until(_lease_held)
        assert lease.id != old_id  # taken again, under a new id
        # A claim made at the edge (filing claims in its own statement) names the new lease.
        cancel = f"{URL}/{answer.json()['id']}/cancel"
        later = await http.post(cancel, json={"reason": "test"}, headers=auth(api_key, "later"))
        assert later.status_code == 200, later.text
        assert (
            await fetch_value("SELECT holder FROM idempotency_keys WHERE key = 'later'") == lease.id
        )
    finally:
        await old_session.close()


async def _client_id() -> uuid.UUID:
    client_id = await fetch_value("SELECT id FROM api_keys LIMIT 1")
    assert isinstance(client_id, uuid.UUID)
    return client_id


@pytest.mark.usefixtures("api_key")
async def test_a_retry_that_loses_the_takeover_to_the_first_attempt_gets_its_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The retry finds the claim's holder gone, but the first attempt stores its answer just
    before the retry's takeover: the retry replays that answer, not 409 in progress."""
    client_id = await _client_id()
    first = await service.claim(client_id, "raced", "fp", "POST", URL)
    assert isinstance(first, service.Claimed)
    await fetch(  # abandoned by its process, as `abandon` leaves it
        "UPDATE idempotency_keys SET holder = NULL, locked_at = '-infinity' WHERE key = 'raced'"
    )

    async def first_attempt_finishes_first(query: str, *args: Any) -> list[Any]:
        if query == queries.TAKE_OVER:
            await fetch(
                "UPDATE idempotency_keys SET state = 'done', response_status = 201,"
                " response_content_type = 'application/json', response_body = '{}'"
                " WHERE key = 'raced'"
            )
        return await fetch(query, *args)

    monkeypatch.setattr(service, "fetch", first_attempt_finishes_first)
    retry = await service.claim(client_id, "raced", "fp", "POST", URL)
    assert retry == service.Replay(201, "application/json", b"{}")


@pytest.mark.usefixtures("api_key")
async def test_a_late_release_never_deletes_a_stored_answer() -> None:
    client_id = await _client_id()
    claimed = await service.claim(client_id, "answered", "fp", "POST", URL)
    assert isinstance(claimed, service.Claimed)
    await service.complete(claimed, 201, "application/json", b'{"id": 1}')
    await service.release(claimed)  # e.g. a touch kept through an outage, run late
    retry = await service.claim(client_id, "answered", "fp", "POST", URL)
    assert retry == service.Replay(201, "application/json", b'{"id": 1}')
