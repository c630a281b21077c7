"""Migrations written as SQL: what Piccolo's column API cannot declare (views, partial and
composite indexes, triggers)."""

from __future__ import annotations

from collections.abc import Sequence

from piccolo.apps.migrations.auto.migration_manager import MigrationManager


def sql_migration(
    migration_id: str, description: str, statements: Sequence[str]
) -> MigrationManager:
    manager = MigrationManager(
        migration_id=migration_id, app_name="gateway", description=description
    )

    async def run() -> None:
        from gateway.core.db.connection import engine

        for statement in statements:
            await engine().run_ddl(statement)

    manager.add_raw(run)
    return manager
