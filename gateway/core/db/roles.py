"""Two database roles, so that the gateway's own credentials cannot switch the audit trail's
guards off: an owner, which migrations run as and which owns every table, trigger and function,
and the application's role, which reads and writes the ordinary tables but may only read and
append to the audit trail. Not owning the audit tables, it can neither UPDATE, DELETE nor
TRUNCATE them, nor alter or drop their triggers; not a superuser, it cannot set
`session_replication_role` either.

The grants are applied after every migration (tables added later get them too); the sandbox and
the tests create both roles themselves, and the README gives the SQL for a production server.
"""

from __future__ import annotations

import os
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from gateway.core.db.connection import fetch, transaction
from gateway.core.db.server import with_database

# Read and append only: the hash chain, the entries, the signed checkpoints, and the record of
# which checkpoints left the host (a row deleted would hide one that never did).
APPEND_ONLY = ("audit_records", "audit_chain", "audit_checkpoints", "audit_checkpoint_deliveries")
# Forgetting a subject and re-wrapping its data key change these columns, and nothing else;
# the trigger audit_subject_keys_forget_or_rotate_only lets only those two shapes through.
SUBJECT_KEYS = "audit_subject_keys"
SUBJECT_KEY_COLUMNS = ("wrapped_key", "kek_id", "forgotten_at")
# Read only: what migrations alone write (the old spellings of renamed audit actions).
READ_ONLY = ("migration", "audit_action_names")

_RELATIONS = """
SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm')
 ORDER BY c.relname
"""


def quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def with_user(url: str, user: str, password: str | None = None) -> str:
    """`url` for another role (same server, database and options)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    credentials = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}"))


def migration_url() -> str | None:
    """The owner's URL (`BG_MIGRATION_DATABASE_URL`), when migrations run as a role of their own."""
    from settings import get_settings

    return os.environ.get("BG_MIGRATION_DATABASE_URL") or get_settings().migration_database_url


def grant_statements(app_role: str, relations: list[tuple[str, str]]) -> list[str]:
    """What the application's role may do, table by table. Revoked first, so that applying them
    again (after each migration) also takes back anything granted by hand since."""
    role = quote_name(app_role)
    statements = [f"GRANT USAGE ON SCHEMA public TO {role}"]
    for name, kind in relations:
        table = quote_name(name)
        statements.append(f"REVOKE ALL ON {table} FROM {role}")
        if kind in ("v", "m") or name in READ_ONLY:
            statements.append(f"GRANT SELECT ON {table} TO {role}")
        elif name in APPEND_ONLY:
            statements.append(f"GRANT SELECT, INSERT ON {table} TO {role}")
        elif name == SUBJECT_KEYS:
            columns = ", ".join(SUBJECT_KEY_COLUMNS)
            statements.append(f"GRANT SELECT, INSERT, UPDATE ({columns}) ON {table} TO {role}")
        else:  # never TRUNCATE, REFERENCES or TRIGGER
            statements.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
    statements += [
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}",
    ]
    return statements


async def apply_grants(app_role: str) -> None:
    """Run as the owner, on the engine: give `app_role` what it needs and no more, in one
    transaction (a gateway already serving never sees a table between REVOKE and GRANT)."""
    async with transaction():
        relations = [(row["relname"], row["relkind"]) for row in await fetch(_RELATIONS)]
        for statement in grant_statements(app_role, relations):
            await fetch(statement)


async def create_roles(admin_url: str, database: str, owner: str, app: str) -> None:
    """For the sandbox and the tests (a server of their own, or trust authentication): both
    roles, `database` owned by the owner, and whatever an older sandbox created as the admin
    handed over to the owner. Idempotent: every start runs it."""
    connection = await asyncpg.connect(admin_url)
    try:
        for role in (owner, app):
            exists = await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            if not exists:
                await connection.execute(
                    f"CREATE ROLE {quote_name(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"
                )
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await connection.execute(
                f"CREATE DATABASE {quote_name(database)} OWNER {quote_name(owner)}"
            )
        else:
            await connection.execute(
                f"ALTER DATABASE {quote_name(database)} OWNER TO {quote_name(owner)}"
            )
    finally:
        await connection.close()
    await _hand_over_objects(with_database(admin_url, database), owner)


_HAND_OVER = """
DO $$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT c.oid::regclass::text AS name FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
           AND c.relowner <> '{owner}'::regrole
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO %I', item.name, '{owner_name}');
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure::text AS name FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND p.proowner <> '{owner}'::regrole
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.name, '{owner_name}');
    END LOOP;
    FOR item IN
        SELECT t.oid::regtype::text AS name FROM pg_type t
          JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = 'public' AND t.typtype IN ('e', 'c', 'd')
           AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
           AND t.typowner <> '{owner}'::regrole
    LOOP
        EXECUTE format('ALTER TYPE %s OWNER TO %I', item.name, '{owner_name}');
    END LOOP;
END
$$
"""


async def _hand_over_objects(database_url: str, owner: str) -> None:
    """A sandbox created before the roles existed: its objects belong to the admin. Migrations
    now run as the owner, which must own them to change them."""
    connection = await asyncpg.connect(database_url)
    try:
        literal = owner.replace("'", "''")
        quoted = quote_name(owner).replace("'", "''")
        await connection.execute(_HAND_OVER.format(owner=quoted, owner_name=literal))
    finally:
        await connection.close()
