"""Each notification endpoint's language (the help-desk note of every event it receives is
written in it: English by default, French or Arabic), and each event's note in the languages
other than English, written when the event is (the body sent to an endpoint carries the note
of its language; NULL: an event recorded before, or one whose note has no translation)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-10T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notifications: each endpoint's language, each event's translated notes"

FORWARDS = [
    "ALTER TABLE notification_endpoints ADD COLUMN language varchar(8) NOT NULL DEFAULT 'en'",
    "ALTER TABLE notification_endpoints ADD CONSTRAINT notification_endpoints_language_known"
    " CHECK (language IN ('en', 'fr', 'ar'))",
    "ALTER TABLE notification_events ADD COLUMN notes jsonb",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
