"""`billing-gateway migrate` on a database of its own: concurrent runs serialised, a database
built by the migrations the baseline squashed accepted as it is, and Procrastinate's own
migrations applied after an upgrade, once each."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from gateway.core.db import job_schema, schema_check
from gateway.core.db.connection import fetch_value
from gateway.core.db.migrate import connected_as, record_squashed
from gateway.core.db.server import with_database


@pytest.fixture
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    name = f"bg_migrate_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield with_database(server_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _migrate_command(url: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "DATABASE_URL": url}
    environment.pop("BG_MIGRATION_DATABASE_URL", None)  # one role: the server's admin
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", "migrate"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_two_migrates_at_once_both_succeed_and_migrate_once(fresh_database: str) -> None:
    first, second = _migrate_command(fresh_database), _migrate_command(fresh_database)
    for process in (first, second):
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
        assert "database is up to date" in out
    connection = await asyncpg.connect(fresh_database)
    try:
        piccolo = await connection.fetchrow(
            "SELECT count(*) AS runs, count(DISTINCT name) AS names FROM migration"
        )
        recorded = await connection.fetch(
            f"SELECT name FROM {job_schema.RECORD_TABLE} ORDER BY name"
        )
        has_jobs = await connection.fetchval("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
    finally:
        await connection.close()
    assert piccolo["runs"] > 0 and piccolo["runs"] == piccolo["names"], "each migration ran once"
    assert has_jobs
    assert [row["name"] for row in recorded] == [
        file.name for file in job_schema.migration_files()
    ], "a fresh schema counts every Procrastinate migration as applied"


def _baseline() -> tuple[str, tuple[str, ...]]:
    for (_, migration_id), module in schema_check.shipped_migrations().items():
        if getattr(module, "REPLACES", ()):
            return migration_id, module.REPLACES
    raise AssertionError("no migration squashes older ones")


async def _as_the_old_chain_left_it(url: str, baseline: str, replaced: tuple[str, ...]) -> None:
    """The schema is the baseline's; the record names the migrations it replaced instead."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DELETE FROM migration WHERE name = $1", baseline)
        await connection.executemany(
            "INSERT INTO migration (app_name, name) VALUES ('gateway', $1)",
            [(old,) for old in replaced],
        )
    finally:
        await connection.close()


async def test_a_database_built_by_the_squashed_migrations_is_accepted(
    fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sandbox or CI database migrated before the squash: the baseline is recorded as
    applied, not run (it would fail on the existing tables), and readiness agrees."""
    baseline, replaced = _baseline()
    process = _migrate_command(fresh_database)
    assert process.communicate(timeout=180) and process.returncode == 0
    await _as_the_old_chain_left_it(fresh_database, baseline, replaced)

    process = _migrate_command(fresh_database)
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err
    assert "database is up to date" in out
    connection = await asyncpg.connect(fresh_database)
    try:
        recorded = {row["name"] for row in await connection.fetch("SELECT name FROM migration")}
    finally:
        await connection.close()
    assert baseline in recorded
    monkeypatch.setattr(schema_check, "_up_to_date", False)
    async with connected_as(fresh_database):
        assert await schema_check.schema_problem() is None


async def test_a_database_part_way_through_the_squashed_migrations_is_refused(
    fresh_database: str,
) -> None:
    baseline, replaced = _baseline()
    process = _migrate_command(fresh_database)
    assert process.communicate(timeout=180) and process.returncode == 0
    await _as_the_old_chain_left_it(fresh_database, baseline, replaced[:-1])
    connection = await asyncpg.connect(fresh_database)
    try:
        with pytest.raises(RuntimeError, match="the release before the squash"):
            await record_squashed(connection)
    finally:
        await connection.close()


async def test_a_procrastinate_upgrade_applies_its_new_migrations_once(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = await asyncpg.connect(fresh_database)
    try:
        assert await job_schema.update_job_schema(connection) == []  # fresh: the full schema
        shipped = job_schema.migration_files()
        upgrade = tmp_path / "99.00.00_01_pre_add_probe.sql"
        upgrade.write_text("CREATE TABLE procrastinate_upgrade_probe (id integer);\n")
        monkeypatch.setattr(job_schema, "migration_files", lambda: [*shipped, upgrade])

        assert await job_schema.update_job_schema(connection) == [upgrade.name]
        assert await job_schema.update_job_schema(connection) == [], "applied once"
        assert await connection.fetchval(
            "SELECT to_regclass('procrastinate_upgrade_probe') IS NOT NULL"
        )
    finally:
        await connection.close()


async def test_job_tables_made_before_the_record_count_as_up_to_date(
    fresh_database: str,
) -> None:
    """A database migrated by the code before `procrastinate_applied_migrations` existed: its
    schema is this version's, so nothing is re-applied (the initial migration would fail on
    the existing tables) and every file is recorded."""
    connection = await asyncpg.connect(fresh_database)
    try:
        await job_schema.update_job_schema(connection)
        await connection.execute(f"DROP TABLE {job_schema.RECORD_TABLE}")

        assert await job_schema.update_job_schema(connection) == []
        recorded = await connection.fetchval(f"SELECT count(*) FROM {job_schema.RECORD_TABLE}")
    finally:
        await connection.close()
    assert recorded == len(job_schema.migration_files())


def _files_up_to(release: str) -> list[Path]:
    return [file for file in job_schema.migration_files() if file.name[: len(release)] <= release]


async def _build_job_schema_of(connection: asyncpg.Connection, release: str) -> None:
    """The job tables as an older Procrastinate's full schema left them, with no record (the
    code before `procrastinate_applied_migrations`): its migrations from the initial one on."""
    for file in _files_up_to(release):
        await connection.execute(file.read_text(encoding="utf-8"))


def test_the_newest_procrastinate_release_shipped_has_a_marker() -> None:
    """Upgrading Procrastinate to a release with migrations means adding its marker."""
    newest = max(file.name[:8] for file in job_schema.migration_files())
    assert newest in job_schema._MARKERS


@pytest.mark.parametrize("release", ["03.00.00", "03.01.00", "03.02.00", "03.03.00"])
async def test_job_tables_of_an_older_procrastinate_get_the_newer_migrations(
    fresh_database: str, release: str
) -> None:
    connection = await asyncpg.connect(fresh_database)
    try:
        await _build_job_schema_of(connection, release)

        applied = await job_schema.update_job_schema(connection)
        recorded = await connection.fetch(f"SELECT name FROM {job_schema.RECORD_TABLE}")
        retry_failed = await connection.fetchval(
            "SELECT to_regprocedure('procrastinate_retry_job_v2(bigint, timestamptz, integer,"
            " varchar, varchar)') IS NOT NULL"
        )
        assert await job_schema.update_job_schema(connection) == [], "applied once"
    finally:
        await connection.close()
    every_name = [file.name for file in job_schema.migration_files()]
    older = {file.name for file in _files_up_to(release)}
    assert applied == [name for name in every_name if name not in older]
    assert sorted(row["name"] for row in recorded) == every_name
    assert retry_failed, "the current worker's functions exist"


async def test_migrate_upgrades_a_sandbox_made_with_procrastinate_3_1(
    fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sandbox `.data` from before the lock file: Procrastinate 3.1's tables, no record.
    `billing-gateway migrate` brings them to this release, and readiness agrees."""
    connection = await asyncpg.connect(fresh_database)
    try:
        await _build_job_schema_of(connection, "03.01.00")
    finally:
        await connection.close()

    process = _migrate_command(fresh_database)
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err
    assert "database is up to date" in out
    monkeypatch.setattr(schema_check, "_up_to_date", False)
    async with connected_as(fresh_database):
        assert await schema_check.schema_problem() is None
        defer_in_batches = await fetch_value(
            "SELECT to_regprocedure('procrastinate_defer_jobs_v1(procrastinate_job_to_defer_v1[])')"
            " IS NOT NULL"
        )
    assert defer_in_batches, "the 3.2 functions the worker calls exist"


async def test_job_tables_older_than_procrastinate_3_are_refused(fresh_database: str) -> None:
    connection = await asyncpg.connect(fresh_database)
    try:
        await _build_job_schema_of(connection, "02.14.01")
        with pytest.raises(RuntimeError, match=r"older than 3\.0"):
            await job_schema.update_job_schema(connection)
        still_unrecorded = await connection.fetchval(
            f"SELECT to_regclass('{job_schema.RECORD_TABLE}') IS NULL"
        )
    finally:
        await connection.close()
    assert still_unrecorded, "nothing recorded for a schema it cannot upgrade"
