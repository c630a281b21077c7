"""A retry with the same Idempotency-Key gets the original answer even when the process died
between committing the change and storing its answer: for every mutating /v1 route.

The crash is simulated where it hurts: the change commits, the answer is never stored (the
body guard's `complete` never runs), and the claim is left as a dead holder leaves it, then goes
stale. One test kills a real server with SIGKILL at that moment."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from gateway.core.db.connection import fetch
from gateway.core.db.server import with_database
from gateway.idempotency import service as idempotency
from tests.database import auth
from tests.payloads import iban_change

Client = httpx.AsyncClient


@contextmanager
def dying_before_the_answer_is_stored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    async def never_stored(*args: Any) -> None:
        """The process was killed: nothing after the service's commit happened."""

    monkeypatch.setattr(idempotency, "complete", never_stored)
    yield
    monkeypatch.undo()


async def a_minute_later() -> None:
    """The dead holder's claim is stale now: the retry may take it over."""
    await fetch("UPDATE idempotency_keys SET locked_at = locked_at - interval '5 minutes'")


async def count(table: str) -> int:
    return int((await fetch(f"SELECT count(*) AS n FROM {table}"))[0]["n"])


async def test_a_block_retried_after_a_crash_gets_the_original_201(
    http: Client, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"kind": "ip", "value": "198.51.100.9", "reason": "carding"}
    headers = auth(api_key, "block-crash")
    with dying_before_the_answer_is_stored(monkeypatch):
        first = await http.post("/v1/blocklist/entries", json=body, headers=headers)
    assert first.status_code == 201, first.text
    await a_minute_later()
    retry = await http.post("/v1/blocklist/entries", json=body, headers=headers)
    assert retry.status_code == 201, retry.text
    assert retry.content == first.content
    assert await count("blocklist_entries") == 1
    # a block of the same value under another key is a real conflict, and says so
    other = await http.post("/v1/blocklist/entries", json=body, headers=auth(api_key, "other"))
    assert other.status_code == 409 and other.json()["code"] == "blocklist_entry_exists"


async def test_an_import_retried_after_a_crash_is_queued_once(
    http: Client, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"csv": "kind,value,reason\nip,198.51.100.10,carding\n"}
    headers = auth(api_key, "import-crash")
    with dying_before_the_answer_is_stored(monkeypatch):
        first = await http.post("/v1/blocklist/imports", json=body, headers=headers)
    assert first.status_code == 202, first.text
    await a_minute_later()
    retry = await http.post("/v1/blocklist/imports", json=body, headers=headers)
    assert retry.status_code == 202, retry.text
    assert retry.content == first.content
    assert await count("blocklist_imports") == 1


async def test_a_filing_retried_after_a_crash_gets_the_answer_of_its_time(
    http: Client, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staff took the request up before the client retried: the retry still gets the answer
    the client would have had (status new), not today's state of the request."""
    body = iban_change()
    headers = auth(api_key, "file-crash")
    with dying_before_the_answer_is_stored(monkeypatch):
        first = await http.post("/v1/change-requests", json=body, headers=headers)
    assert first.status_code == 201, first.text
    await fetch("UPDATE change_requests SET status = 'assigned', assignee_id = 1")
    await a_minute_later()
    retry = await http.post("/v1/change-requests", json=body, headers=headers)
    assert retry.status_code == 201, retry.text
    assert retry.content == first.content
    assert await count("change_requests") == 1


async def test_a_cancel_retried_after_a_crash_gets_the_original_200(
    http: Client, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    filed = await http.post("/v1/change-requests", json=iban_change(), headers=auth(api_key, "f"))
    url = f"/v1/change-requests/{filed.json()['id']}/cancel"
    body, headers = {"reason": "customer withdrew"}, auth(api_key, "cancel-crash")
    with dying_before_the_answer_is_stored(monkeypatch):
        first = await http.post(url, json=body, headers=headers)
    assert first.status_code == 200, first.text
    await a_minute_later()
    retry = await http.post(url, json=body, headers=headers)
    assert retry.status_code == 200, retry.text
    assert retry.content == first.content
    cancels = await fetch(
        "SELECT count(*) AS n FROM audit_records WHERE action = 'change_request.cancel.succeeded'"
    )
    assert cancels[0]["n"] == 1


async def test_an_unblock_repeated_after_a_lost_answer_gets_the_original_200(
    http: Client, api_key: str
) -> None:
    """DELETE carries no Idempotency-Key: repeating it with the same reason is the same
    request and gets the same answer; another reason is a conflict (already removed)."""
    created = await http.post(
        "/v1/blocklist/entries",
        json={"kind": "ip", "value": "198.51.100.11", "reason": "carding"},
        headers=auth(api_key, "to-unblock"),
    )
    url = f"/v1/blocklist/entries/{created.json()['id']}"
    reason = {"reason": "false positive"}
    first = await http.request("DELETE", url, json=reason, headers=auth(api_key))
    assert first.status_code == 200, first.text
    retry = await http.request("DELETE", url, json=reason, headers=auth(api_key))
    assert retry.status_code == 200, retry.text
    assert retry.content == first.content
    removals = await fetch(
        "SELECT count(*) AS n FROM audit_records WHERE action = 'blocklist.remove_entry.succeeded'"
    )
    assert removals[0]["n"] == 1
    other = await http.request("DELETE", url, json={"reason": "other"}, headers=auth(api_key))
    assert other.status_code == 409
    assert other.json()["code"] == "blocklist_entry_already_removed"


async def test_the_openapi_document_tells_retry_later_from_conflict(http: Client) -> None:
    document = (await http.get("/schema/openapi.json")).json()
    block = document["paths"]["/v1/blocklist/entries"]["post"]["responses"]["409"]["description"]
    assert "blocklist_entry_exists" in block and "idempotency_request_in_progress" in block
    assert "retry" in block.lower()
    filing = document["paths"]["/v1/change-requests"]["post"]["responses"]["409"]["description"]
    assert "duplicate_open_request" in filing and "blocklist_entry_exists" not in filing


# -- a real server, killed with SIGKILL after the block committed --------------------------

_PAUSE_ON_ANSWER = """
CREATE OR REPLACE FUNCTION test_pause_on_answer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(913013);
    RETURN NEW;
END $$;
CREATE TRIGGER test_pause_on_answer BEFORE UPDATE ON idempotency_keys FOR EACH ROW
    WHEN (NEW.state = 'done' AND OLD.state = 'running') EXECUTE FUNCTION test_pause_on_answer();
"""


@contextmanager
def gateway_process(database_url: str, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BG_ZUORA_EMULATOR_PORT": str(_free_port()),
        "BG_STRIPE_EMULATOR_PORT": str(_free_port()),
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base_url}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"the server did not start:\n{log.read_text()}")
        yield process, base_url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=15)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_sigkill_while_the_answer_is_stored_then_a_retry_blocks_once(
    http: Client, api_key: str, server_url: str, database_url: str, tmp_path: Path
) -> None:
    """The answer's write is held up (a trigger waits on a lock the test holds) and the server
    is killed while it waits. Before the fix the block had committed by then, and the retry
    with the same key got 409 blocklist_entry_exists; now the block and its answer commit
    together, and the retry gets 201 with exactly one entry."""
    # the server's admin: it may add a trigger and end a dead client's session
    holder = await asyncpg.connect(with_database(server_url, urlsplit(database_url).path[1:]))
    try:
        await holder.execute(_PAUSE_ON_ANSWER)
        await holder.execute("SELECT pg_advisory_lock(913013)")
        body = {"kind": "ip", "value": "198.51.100.12", "reason": "carding"}
        headers = auth(api_key, "sigkill")
        with gateway_process(database_url, tmp_path / "gateway.log") as (process, base_url):
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
                attempt = asyncio.create_task(
                    client.post("/v1/blocklist/entries", json=body, headers=headers)
                )
                waiting: list[int] = []
                for _ in range(300):
                    waiting = await _backends_waiting_on_the_answer(holder)
                    if waiting:
                        break
                    await asyncio.sleep(0.05)
                assert waiting, "the request never reached the answer's write"
                committed_before_the_kill = await count("blocklist_entries")
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
                with pytest.raises(httpx.HTTPError):
                    await attempt
        # PostgreSQL ends a dead client's session when it next looks at the socket; the test
        # does it now rather than wait for that
        for pid in waiting:
            await holder.execute("SELECT pg_terminate_backend($1)", pid)
        await holder.execute("SELECT pg_advisory_unlock(913013)")
        await holder.execute("DROP TRIGGER test_pause_on_answer ON idempotency_keys")
        await a_minute_later()
        retry = await http.post("/v1/blocklist/entries", json=body, headers=headers)
        assert committed_before_the_kill == 0  # no window: nothing commits without its answer
        assert retry.status_code == 201, retry.text
        assert await count("blocklist_entries") == 1
        replay = await http.post("/v1/blocklist/entries", json=body, headers=headers)
        assert replay.content == retry.content
    finally:
        await holder.execute("DROP TRIGGER IF EXISTS test_pause_on_answer ON idempotency_keys")
        await holder.close()


async def _backends_waiting_on_the_answer(holder: asyncpg.Connection) -> list[int]:
    rows = await holder.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND wait_event = 'advisory' AND pid <> pg_backend_pid()"
    )
    return [row["pid"] for row in rows]
