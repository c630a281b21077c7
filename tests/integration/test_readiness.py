"""/health/ready: 503 with a sentence while the schema is behind the code or this process's
blocklist does not listen for changes; 200 otherwise."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest

from gateway.core.db import schema_check
from gateway.fraud.wiring import blocklist_service
from tests.database import superuser


@pytest.fixture
async def listening() -> None:
    """As the app's lifespan does (an in-process client runs none)."""
    await blocklist_service().mirror.ensure_started()


async def test_ready_when_the_schema_is_current_and_the_blocklist_listens(
    http: httpx.AsyncClient, listening: None
) -> None:
    response = await http.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"


async def test_not_ready_while_a_migration_is_not_applied(
    http: httpx.AsyncClient, listening: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As after deploying new code before `billing-gateway migrate`: one migration unknown to
    # the database.
    shipped = schema_check.expected_migrations()
    monkeypatch.setattr(
        schema_check, "expected_migrations", lambda: shipped | {("gateway", "2099-01-01T00")}
    )
    monkeypatch.setattr(schema_check, "_up_to_date", False)
    response = await http.get("/health/ready")
    assert response.status_code == 503
    assert "1 database migrations are not applied" in response.json()["detail"]
    assert "billing-gateway migrate" in response.json()["detail"]
    monkeypatch.setattr(schema_check, "expected_migrations", lambda: shipped)
    assert (await http.get("/health/ready")).status_code == 200


async def test_not_ready_on_a_database_never_migrated(
    http: httpx.AsyncClient, listening: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema_check, "_up_to_date", False)
    async with superuser() as connection:  # no migration table: as on a fresh database
        await connection.execute("ALTER TABLE migration RENAME TO migration_aside")
        try:
            response = await http.get("/health/ready")
        finally:
            await connection.execute("ALTER TABLE migration_aside RENAME TO migration")
    assert response.status_code == 503
    assert "no migrations applied" in response.json()["detail"]


async def test_not_ready_without_the_job_tables(
    http: httpx.AsyncClient, listening: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema_check, "_up_to_date", False)
    async with superuser() as connection:
        await connection.execute("ALTER TABLE procrastinate_jobs RENAME TO jobs_aside")
        try:
            response = await http.get("/health/ready")
        finally:
            await connection.execute("ALTER TABLE jobs_aside RENAME TO procrastinate_jobs")
    assert response.status_code == 503
    assert "job queue's tables are missing" in response.json()["detail"]


async def test_not_ready_while_a_job_queue_migration_is_not_applied(
    http: httpx.AsyncClient, listening: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As after upgrading Procrastinate before `billing-gateway migrate`: a file it now ships
    # that this database has not had.
    shipped = schema_check.migration_files()
    newer = shipped[-1].with_name("99.00.00_01_pre_from_a_newer_release.sql")
    monkeypatch.setattr(schema_check, "migration_files", lambda: [*shipped, newer])
    monkeypatch.setattr(schema_check, "_up_to_date", False)
    response = await http.get("/health/ready")
    assert response.status_code == 503
    assert "1 of the job queue's migrations are not applied" in response.json()["detail"]
    monkeypatch.setattr(schema_check, "migration_files", lambda: shipped)
    assert (await http.get("/health/ready")).status_code == 200


async def test_not_ready_while_the_blocklist_listener_is_lost(
    http: httpx.AsyncClient, listening: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = blocklist_service().mirror
    connect = asyncpg.connect

    async def refused(*_args: object, **_kwargs: object) -> None:
        raise OSError("connection refused")

    async with superuser() as connection:
        monkeypatch.setattr(asyncpg, "connect", refused)  # it cannot reconnect
        assert mirror._connection is not None
        listener = mirror._connection.get_server_pid()
        await connection.execute("SELECT pg_terminate_backend($1)", listener)
    await _until(lambda: not mirror.listening)
    response = await http.get("/health/ready")
    assert response.status_code == 503
    assert "fraud blocklist is not listening" in response.json()["detail"]
    assert "billing_gateway_fraud_mirror_listening 0.0" in (await http.get("/metrics")).text
    monkeypatch.setattr(asyncpg, "connect", connect)  # PostgreSQL answers again
    await _until(lambda: mirror.listening)  # it reconnects by itself
    assert (await http.get("/health/ready")).status_code == 200
    assert "billing_gateway_fraud_mirror_listening 1.0" in (await http.get("/metrics")).text


async def _until(check: object, within: float = 10.0) -> None:
    assert callable(check)
    for _ in range(int(within / 0.1)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not within the time")
