"""iban_on_file(hash): whether a request not cancelled has the IBAN, read after every other
filing of that IBAN under way has committed. The filing statement checks this in its own CTE;
read in the statement's snapshot, two filings of one new IBAN at the same moment (two
processes, two customers) could both find nobody and both answer so. The function takes a
transaction lock on the IBAN first, held until the filing commits, then reads with a snapshot
of its own (a VOLATILE function's query takes a fresh one under READ COMMITTED): the second
filing waits for the first and finds it."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-13T09:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "iban_on_file(): the same-IBAN check of a filing, after others of that IBAN"

FORWARDS: list[str] = [
    """
CREATE FUNCTION iban_on_file(wanted text) RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtextextended('iban-on-file:' || wanted, 0));
        RETURN EXISTS (
            SELECT 1 FROM change_requests WHERE iban_hash = wanted AND status <> 'cancelled'
        );
    END
    $$
    """,
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
