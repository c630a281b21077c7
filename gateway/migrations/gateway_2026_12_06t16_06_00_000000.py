"""The back office's form submissions: a correction filed from the customer page is filed once
per form, however often the form is sent (a double click, a reload that posts again).

Each form the page shows carries a token of its own; the first submission claims it, the
correction it filed is written next to it, and any later submission of the same form is
answered with that correction.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-06T16:06:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "staff form submissions (a correction filed once per form)"

FORWARDS = [
    """
    CREATE TABLE staff_form_submissions (
        staff_user_id integer NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
        token uuid NOT NULL,
        action text NOT NULL,
        correction_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (staff_user_id, token)
    )
    """,
    "CREATE INDEX staff_form_submissions_created ON staff_form_submissions (created_at)",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
