"""`make migration name=<slug>`: the next migration, a raw-SQL skeleton named and identified by
the current UTC time, then what to do next."""

from __future__ import annotations

import datetime
import re
import sys
from pathlib import Path

import piccolo

FOLDER = Path(__file__).resolve().parents[2] / "migrations"
_SLUG = re.compile(r"[a-z][a-z0-9_]{0,59}")
_TEMPLATE = '''"""{slug}: what changes, and why."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "{migration_id}"
VERSION = "{version}"
DESCRIPTION = "{slug}"

FORWARDS: list[str] = [
    # "ALTER TABLE change_requests ADD COLUMN ...",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
'''
NEXT_STEPS = """Created {path}
Next:
  1. write its SQL in FORWARDS (one statement per string);
  2. change the table class (gateway/*/tables.py, audit/tables.py, or admin/screens.py for a
     view) to the same columns;
  3. run the drift test: pytest tests/integration/test_schema_drift.py"""


def create(slug: str, now: datetime.datetime, folder: Path) -> Path:
    if not _SLUG.fullmatch(slug):
        raise ValueError(f"name={slug!r}: lower-case letters, digits and _, a letter first")
    path = folder / now.strftime("gateway_%Y_%m_%dt%H_%M_%S_%f.py")
    migration_id = now.strftime("%Y-%m-%dT%H:%M:%S:%f")
    text = _TEMPLATE.format(slug=slug, migration_id=migration_id, version=piccolo.__VERSION__)
    with path.open("x", encoding="utf-8") as file:  # never over an existing migration
        file.write(text)
    return path


def next_moment(now: datetime.datetime, folder: Path) -> datetime.datetime:
    """`now`, or a minute after the latest migration when that sorts later: piccolo runs
    migrations in id order, and a clock behind the last migration's (another machine's) would
    place the new one before it."""
    ids = [path.stem.removeprefix("gateway_") for path in folder.glob("gateway_*.py")]
    latest = (
        max(
            (datetime.datetime.strptime(i, "%Y_%m_%dt%H_%M_%S_%f").replace(tzinfo=datetime.UTC))
            for i in ids
        )
        if ids
        else None
    )
    return now if latest is None or now > latest else latest + datetime.timedelta(minutes=1)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: make migration name=<slug>", file=sys.stderr)
        return 2
    try:
        path = create(argv[0], next_moment(datetime.datetime.now(datetime.UTC), FOLDER), FOLDER)
    except ValueError as refusal:
        print(refusal, file=sys.stderr)
        return 2
    print(NEXT_STEPS.format(path=path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
