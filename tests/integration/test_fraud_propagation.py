"""A block made through one running gateway process is enforced by another within a second:
each process keeps its matcher current from PostgreSQL's notifications."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx

from tests.database import LiveServer, auth, issue_test_key, serving


async def _seconds_until(client: httpx.AsyncClient, key: str, decision: str, ip: str) -> float:
    """Seconds until the server answers `decision` for `ip` (polling), or just over 1."""
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < 1.0:
        answer = await client.post("/v1/fraud/screen", json={"ip": ip}, headers=auth(key))
        if answer.json()["decision"] == decision:
            return elapsed
        await asyncio.sleep(0.005)
    return elapsed


async def test_a_block_in_one_process_is_enforced_by_another_within_a_second(
    live_server: LiveServer, database_url: str, tmp_path: Path
) -> None:
    key = await issue_test_key()
    ip = "198.51.100.201"
    with serving(database_url, tmp_path / "second.log") as second:
        async with (
            httpx.AsyncClient(base_url=live_server.base_url, timeout=5) as first,
            httpx.AsyncClient(base_url=second.base_url, timeout=5) as other,
        ):
            assert await _seconds_until(other, key, "allow", ip) < 1.0
            network = await first.post(
                "/v1/blocklist/entries",
                json={"kind": "ip_range", "value": "198.51.100.0/24", "reason": "botnet"},
                headers=auth(key, uuid.uuid4().hex),
            )
            assert network.status_code == 201, network.text
            assert await _seconds_until(other, key, "block", ip) < 1.0
            removed = await first.request(
                "DELETE",
                f"/v1/blocklist/entries/{network.json()['id']}",
                json={"reason": "false positive"},
                headers=auth(key),
            )
            assert removed.status_code == 200, removed.text
            assert await _seconds_until(other, key, "allow", ip) < 1.0
