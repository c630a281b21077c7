"""The data keys guarded: the gateway's role may UPDATE `audit_subject_keys` (to forget a subject
and to re-wrap data keys under a new key-encryption key), and so could overwrite a wrapped key
with garbage, silently making every payload of that subject unreadable. The trigger lets an
UPDATE through in those two shapes only:

- forget: a live key's `wrapped_key` becomes NULL and `forgotten_at` is set, once; a forgotten
  key never comes back;
- rotation: a live key gets another `kek_id` and another `wrapped_key`, still not forgotten.

A rotation-shaped UPDATE with a garbage key still passes: `audit verify` unwraps every live key.
An UPDATE that changes nothing changes nothing, and is let through.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-04T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit data keys: only forgotten or re-wrapped"

FORWARDS = [
    """
    CREATE FUNCTION audit_subject_keys_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;
        END IF;
        IF (NEW.subject, NEW.key_id, NEW.created_at)
               IS NOT DISTINCT FROM (OLD.subject, OLD.key_id, OLD.created_at)
           AND OLD.wrapped_key IS NOT NULL AND OLD.forgotten_at IS NULL
           AND ((NEW.wrapped_key IS NULL AND NEW.forgotten_at IS NOT NULL
                 AND NEW.kek_id IS NOT DISTINCT FROM OLD.kek_id)
             OR (NEW.wrapped_key IS NOT NULL AND NEW.wrapped_key <> OLD.wrapped_key
                 AND NEW.kek_id IS NOT NULL AND NEW.kek_id IS DISTINCT FROM OLD.kek_id
                 AND NEW.forgotten_at IS NULL))
        THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE =
            'audit_subject_keys: only forgetting a subject or re-wrapping its key under'
            || ' another key-encryption key may change it (subject ' || OLD.subject || ')';
    END;
    $$
    """,
    "CREATE TRIGGER audit_subject_keys_forget_or_rotate_only BEFORE UPDATE ON audit_subject_keys"
    " FOR EACH ROW EXECUTE FUNCTION audit_subject_keys_guard()",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
