"""What every `billing-gateway` subcommand needs: the settings (a wrong one exits 2), a database
around its work, and the operator's name for the audit trail. The command modules (cli.py,
cli_users.py, cli_audit.py) import this, never each other."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import typer

from settings import Settings, SettingsError, get_settings


def load_settings() -> Settings:
    """The settings, logging configured by them; a wrong setting is printed and exits 2."""
    # Imported when a command runs (as are the database modules below): `--help` stays quick.
    from gateway.core.log import configure_logging, resolve_format

    try:
        settings = get_settings()
    except SettingsError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level, resolve_format(settings))
    return settings


def run_with_database(work: Callable[[], Awaitable[Any]]) -> Any:
    """Resolve the database (embedded when no DATABASE_URL), then run `work` with a pool."""
    from gateway.core.db.connection import close_pool, start_pool
    from gateway.core.db.server import ensure_database

    async def main() -> Any:
        await database_or_exit(ensure_database())
        await start_pool(2)
        try:
            return await work()
        finally:
            await close_pool()

    return asyncio.run(main())


async def database_or_exit(resolving: Awaitable[str]) -> str:
    """No database to be had (no DATABASE_URL, no embedded server installed): say so, exit 2."""
    try:
        return await resolving
    except SettingsError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None


def operator_name() -> str:
    """Who runs the command, as the audit trail names a staff actor at the command line."""
    return os.environ.get("USER") or os.environ.get("LOGNAME") or "operator"
