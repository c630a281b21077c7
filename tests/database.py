"""A fresh PostgreSQL database per run, the app over HTTP, and a clean slate per test.

With DATABASE_URL set (CI points it at the machine's PostgreSQL 15) the run creates its own
database on that server and drops it at the end; without it, an embedded server in a temporary
folder is used, exactly as `make run` would.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from gateway.core.db.server import start_embedded_server, with_database
from settings import get_settings, reset_settings
from tests.emulators import free_port

TABLES = (
    "change_requests",
    "idempotency_keys",
    "api_keys",
    "audit_records",
    "audit_chain",
    "audit_checkpoints",
    "audit_subject_keys",
    "staff_users",
    "staff_sessions",
    "staff_recovery_codes",
    "staff_login_challenges",
    "webhook_events",
    "correction_steps",
    "corrections",
    "provider_watermarks",
    "blocklist_entries",
    "blocklist_imports",
    "blocklist_bulk_unblocks",
    "notification_events",
    "notification_sequences",
    "notification_endpoints",  # with their deliveries and attempts (CASCADE)
    "cheque_number_sequences",  # cheques, batches and scans go with staff_users (CASCADE)
    "rate_limit_windows",  # limits are shared by every process now: no test inherits a count
    "procrastinate_jobs",
    "procrastinate_events",
    "procrastinate_periodic_defers",
)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    given = os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    yield start_embedded_server(Path(tempfile.mkdtemp(prefix="bg-test-pg-")))


_superuser_url: str | None = None  # the test database, as the server's admin


@pytest.fixture(scope="session")
async def database_url(server_url: str) -> AsyncIterator[str]:
    """The run's database, migrated by an owner role; the app and every test's own SQL run as
    the application's role, so that each test also proves its grants are enough. Both roles are
    the run's own (roles are server-wide), dropped with the database."""
    global _superuser_url
    from gateway.core.db.roles import create_roles, with_user

    name = f"bg_test_{secrets.token_hex(4)}"
    owner, app_role = f"{name}_owner", f"{name}_app"
    await create_roles(server_url, name, owner, app_role)
    _superuser_url = with_database(server_url, name)
    url = with_user(_superuser_url, app_role)
    os.environ["DATABASE_URL"] = url
    os.environ["BG_MIGRATION_DATABASE_URL"] = with_user(_superuser_url, owner)
    reset_settings()
    from gateway.core.db.connection import close_pool, start_pool
    from gateway.core.db.migrate import migrate

    # One pool for the whole run, on the test loop: the app below runs on this loop too.
    await start_pool(10)
    await migrate()
    yield url
    from gateway.fraud.wiring import blocklist_service
    from gateway.idempotency.lease import lease

    await blocklist_service().mirror.stop()
    await lease.stop()
    await close_pool()
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in (app_role, owner):
            await connection.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def superuser() -> AsyncIterator[asyncpg.Connection]:
    """The test database as the server's admin: what an attacker with the database's keys to
    the kingdom could do, and each test's cleanup."""
    assert _superuser_url is not None, "the database_url fixture first"
    connection = await asyncpg.connect(_superuser_url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def app(database_url: str) -> Litestar:
    from gateway.app import create_app
    from gateway.core.log import configure_logging

    configure_logging("INFO", "json")
    return create_app(get_settings())


@pytest.fixture(scope="session")
async def http(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """The app over in-process HTTP, on the test's own event loop (Litestar's AsyncTestClient
    runs the app in a thread of its own, where the test's database pool can't follow)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
async def clean(http: httpx.AsyncClient) -> None:
    """Empty every table before a test. The application's role may not TRUNCATE, and the audit
    tables refuse it to anyone, so the server's admin does it with triggers off."""
    from gateway.fraud.wiring import blocklist_service

    # A request of the previous test may still be finishing on the live server; if it and
    # the TRUNCATE deadlock and PostgreSQL picks the TRUNCATE, try again.
    async with superuser() as connection:
        for attempt in range(3):
            try:
                async with connection.transaction():
                    await connection.execute("SET LOCAL session_replication_role = replica")
                    await connection.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
                break
            except asyncpg.exceptions.DeadlockDetectedError:
                if attempt == 2:
                    raise
    await blocklist_service().mirror.reload()  # TRUNCATE notifies no process


@pytest.fixture
async def api_key() -> str:
    return await issue_test_key()


async def issue_test_key(scopes: list[str] | None = None, **options: Any) -> str:
    from audit.entry import SYSTEM
    from gateway.api_keys.scopes import ALL_SCOPES, Scope
    from gateway.api_keys.service import issue_key

    chosen = [Scope(s) for s in scopes] if scopes is not None else list(ALL_SCOPES)
    # one client for the tests' keys, as one support tool's keys would be
    issued = await issue_key(
        "test-tool", chosen, actor=SYSTEM, **{"client": "test-tool", **options}
    )
    return issued.secret


def auth(key: str, idempotency_key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return headers


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    log_path: Path
    stripe_emulator: str  # the server's own sandbox Stripe emulator


@contextlib.contextmanager
def serving(
    database_url: str, log_path: Path, extra: Mapping[str, str] | None = None
) -> Iterator[LiveServer]:
    """The real server (`billing-gateway serve`) on a loopback port, logging JSON to a file;
    `extra` settings override the test ones."""
    port, stripe_port = free_port(), free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BG_LOG_LEVEL": "DEBUG",
        "BG_LOG_FORMAT": "json",
        # The live server serves its own sandbox Zuora emulator, on a port of its own.
        "BG_ZUORA_EMULATOR_PORT": str(free_port()),
        "BG_STRIPE_EMULATOR_PORT": str(stripe_port),
        # Its Zuora emulator calls out to nobody: a late callout would land in the next test.
        "ZUORA_EMULATOR_CALLOUT_URL": "",
        **(extra or {}),
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # two starting at once on a busy machine
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"the server did not start:\n{log_path.read_text()}")
    try:
        yield LiveServer(base_url, log_path, f"http://127.0.0.1:{stripe_port}")
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(scope="session")
def live_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with serving(database_url, tmp_path_factory.mktemp("live") / "server.log") as server:
        yield server


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """600,000 PBKDF2 rounds per staff password is right in production and slow in a test run;
    the login code reads the round count from each stored hash, so both paths are the same."""
    from gateway.staff.tables import StaffUser

    rounds = StaffUser._pbkdf2_iteration_count
    StaffUser._pbkdf2_iteration_count = 1_000
    yield
    StaffUser._pbkdf2_iteration_count = rounds
