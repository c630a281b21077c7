"""A retry takes over at once the Idempotency-Key of a gateway process that died holding it.

Another process is played by its lease alone: a session holding the advisory lock a gateway
process holds while it lives. Killing that session without a goodbye (as `kill -9` of the process
does) is what PostgreSQL sees when the process dies.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import asyncpg
import httpx

from gateway.db.connection import fetch, fetch_value
from gateway.edge.body_guard import fingerprint
from gateway.idempotency.lease import LEASE_NAMESPACE
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
    from gateway.db.connection import engine

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
