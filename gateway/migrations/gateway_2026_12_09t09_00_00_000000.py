"""Rate-limit windows shared by every gateway process and machine (gateway/edge/limits_storage.py):
API-key budgets, failed authentications per address, the staff sign-in throttle.

One row per limit key holds the sliding-window counter's two windows: the number of the current
window, its count and the previous window's count. UNLOGGED: no write-ahead log for a counter
touched by every request; after a database crash PostgreSQL empties the table, so at worst the
windows open at that moment start again from zero, which is acceptable for a rate limit. Rows
past `expires_at` count for nothing and are deleted now and then by the storage itself; no index
on it, so that each hit stays a HOT update of one row.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-09T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "rate limits: windows shared across processes"

FORWARDS = [
    """
    CREATE UNLOGGED TABLE rate_limit_windows (
      key text PRIMARY KEY,
      window_number bigint NOT NULL,      -- epoch seconds / window length, rounded down
      current_count integer NOT NULL CHECK (current_count >= 0),
      previous_count integer NOT NULL CHECK (previous_count >= 0),
      expires_at timestamptz NOT NULL     -- past it, nothing in the row counts any more
    )
    """,
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
