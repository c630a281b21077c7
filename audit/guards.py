"""What `audit verify` checks besides the chain: that the guards are still in place (the
append-only triggers and the data keys' forget-or-rotate trigger, switched on and still refusing;
the unique MACs; a database role for the gateway that cannot lift them), that every destroyed
data key has its erasure on record, that every live data key still unwraps under the key ring,
and that entries not sealed yet still carry the gateway's MAC."""

from __future__ import annotations

from datetime import timedelta

from audit import queries
from audit.chain import Verdict
from audit.keys import unreadable_keys
from audit.mac import mac_matches
from gateway.core.db.connection import fetch
from settings import get_settings
from settings.keys import KeyMaterial

GUARD_FUNCTION = "audit_records_append_only"
KEYS_GUARD_FUNCTION = "audit_subject_keys_guard"
# pg_trigger.tgtype bits: row 1, before 2, delete 8, update 16, truncate 32.
_ROW_UPDATE_DELETE, _TRUNCATE, _ROW_UPDATE = 1 | 2 | 8 | 16, 2 | 32, 1 | 2 | 16
_APPEND_ONLY = (_ROW_UPDATE_DELETE, GUARD_FUNCTION)
# (table, trigger) -> (when it fires, the function it runs)
GUARDS = {
    ("audit_records", "audit_records_no_update_or_delete"): _APPEND_ONLY,
    ("audit_records", "audit_records_no_truncate"): (_TRUNCATE, GUARD_FUNCTION),
    ("audit_chain", "audit_chain_no_update_or_delete"): _APPEND_ONLY,
    ("audit_chain", "audit_chain_no_truncate"): (_TRUNCATE, GUARD_FUNCTION),
    ("audit_checkpoints", "audit_checkpoints_no_update_or_delete"): _APPEND_ONLY,
    ("audit_checkpoints", "audit_checkpoints_no_truncate"): (_TRUNCATE, GUARD_FUNCTION),
    ("audit_subject_keys", "audit_subject_keys_forget_or_rotate_only"): (
        _ROW_UPDATE,
        KEYS_GUARD_FUNCTION,
    ),
}
GUARDED = sorted({table for table, _ in GUARDS})
_STATES = {"D": "is disabled", "R": "fires only for replication: off in ordinary sessions"}

_TRIGGERS = """
SELECT c.relname, t.tgname, t.tgenabled::text AS tgenabled, t.tgtype, p.proname, p.prosrc
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_proc p ON p.oid = t.tgfoid
 WHERE NOT t.tgisinternal AND c.relname = ANY($1::text[])
   AND c.relnamespace = current_schema()::regnamespace
"""
_UNIQUE_MACS = """
SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relname = 'audit_records_mac' AND i.indisunique AND i.indisvalid
"""
_ROLE = """
SELECT current_user AS role, r.rolsuper AS superuser,
       array(SELECT c.relname::text FROM pg_class c
              WHERE c.relname = ANY($1::text[]) AND c.relowner = r.oid) AS owns,
       array(SELECT t || ' ' || p FROM unnest($1::text[]) t, unnest(ARRAY['UPDATE', 'DELETE',
              'TRUNCATE']) p WHERE has_table_privilege(t, p)) AS may
  FROM pg_roles r WHERE r.rolname = current_user
"""


async def guard_problems(keys: KeyMaterial | None = None) -> list[str]:
    """Each guard that is missing, switched off or changed; each quiet erasure; each live data
    key that does not unwrap under `keys` (by default BG_ENCRYPTION_KEYS)."""
    problems = await _trigger_problems()
    if not await fetch(_UNIQUE_MACS):
        problems.append("guard index audit_records_mac on audit_records is missing")
    problems += await _role_problems()
    problems += [
        f"the data key of subject {row['subject']} is gone without an erasure entry"
        for row in await fetch(queries.KEYS_GONE)
    ]
    return problems + await _unwrap_problems(keys)


async def _unwrap_problems(keys: KeyMaterial | None) -> list[str]:
    if keys is None:
        keys = get_settings().keys
    unreadable = "its payloads cannot be read"
    return [
        f"the data key of subject {key.subject} does not unwrap with BG_ENCRYPTION_KEYS:"
        f" {unreadable}"
        if key.missing_kek_id is None
        else f"the data key of subject {key.subject} is wrapped by key {key.missing_kek_id},"
        f" which BG_ENCRYPTION_KEYS does not hold: {unreadable}"
        for key in await unreadable_keys(keys)
    ]


async def _trigger_problems() -> list[str]:
    found = {(row["relname"], row["tgname"]): row for row in await fetch(_TRIGGERS, GUARDED)}
    problems, functions = [], set()
    for (table, name), (tgtype, function) in GUARDS.items():
        row = found.get((table, name))
        if row is None:
            problems.append(f"guard {name} on {table} is missing")
        elif row["tgtype"] != tgtype or row["proname"] != function:
            problems.append(f"guard {name} on {table} was changed: it no longer guards")
        elif row["tgenabled"] in _STATES:
            problems.append(f"guard {name} on {table} {_STATES[row['tgenabled']]}")
        if row is not None and "RAISE EXCEPTION" not in row["prosrc"].upper():
            functions.add(row["proname"])
    problems += [f"guard function {name}() no longer refuses changes" for name in functions]
    return sorted(problems)


async def _role_problems() -> list[str]:
    [row] = await fetch(_ROLE, GUARDED)
    role, lifts = row["role"], "its own credentials can switch these guards off"
    if row["superuser"]:
        return [f"the gateway's database role {role} is a superuser: {lifts}"]
    return [
        f"the gateway's database role {role} owns {table}: {lifts}" for table in row["owns"]
    ] + [
        f"the gateway's database role {role} may {grant.split()[1]} {grant.split()[0]}"
        for grant in row["may"]
    ]


async def unsealed_problems() -> list[str]:
    """Entries not sealed yet whose MAC the gateway did not make (no chain vouches for them)."""
    rows = await fetch(queries.UNSEALED_BATCH, None, 0)
    any_mac = bool(await fetch(queries.ANY_MAC))
    problems = []
    for row in rows:
        if row["mac"] is None and any_mac:
            problems.append(f"unsealed entry (id {row['id']}): no MAC: not written by the gateway")
        elif row["mac"] is not None and not mac_matches(row):
            problems.append(
                f"unsealed entry (id {row['id']}): MAC does not match:"
                " forged or changed without the gateway's key"
            )
    return problems


def describe_backwards(verdict: Verdict) -> list[str]:
    return [
        f"entry {slip.seq} is dated before entry {slip.after_seq} although sealed after it"
        f" (by {timedelta(seconds=round(slip.by.total_seconds()))})"
        for slip in verdict.backwards
    ]
