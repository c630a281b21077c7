"""Every statement on the blocklist: its entries (blocklist_entries), bulk unblocks
(blocklist_bulk_unblocks) and CSV imports (blocklist_imports)."""

# ruff: noqa: S608  (the f-strings join constant fragments only; values are always $n)

# An entry that blocks: not unblocked, not expired.
LIVE = "removed_at IS NULL AND (expires_at IS NULL OR expires_at > now())"
_EXPIRES = "extract(epoch FROM expires_at)::float8 AS expires"  # as the mirror keeps it

# -- entries ----------------------------------------------------------------------------------
SELECT_ENTRIES = "SELECT * FROM blocklist_entries WHERE "  # and the caller's conditions
LIVE_ENTRY = SELECT_ENTRIES + "id = $1 AND removed_at IS NULL"
REMOVED_AT = "SELECT removed_at FROM blocklist_entries WHERE id = $1"
SOME_REMOVED_AT = "SELECT id, removed_at FROM blocklist_entries WHERE id = ANY($1::bigint[])"
BLOCKING = "SELECT id FROM blocklist_entries WHERE kind = $1 AND value = $2 AND removed_at IS NULL"
IMPORTED = "SELECT id FROM blocklist_entries WHERE import_id = $1 AND kind = $2 AND value = $3"
MATCHED = """
SELECT id, kind, display, reason, source_ticket FROM blocklist_entries
 WHERE id = ANY($1::bigint[]) ORDER BY id
"""
INSERT = f"""
INSERT INTO blocklist_entries (kind, value, display, reason, source_ticket, author_type,
                               author_id, expires_at, import_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING *, {_EXPIRES}, true AS live
"""
# An expired entry no longer blocks; it is closed so that the value can be blocked again.
CLOSE_EXPIRED = """
UPDATE blocklist_entries
   SET removed_at = now(), removed_by_type = 'system', removed_by_id = 'expiry',
       removal_reason = 'expired'
 WHERE kind = $1 AND value = $2 AND removed_at IS NULL AND expires_at <= now()
RETURNING id, display
"""
REMOVE = f"""
UPDATE blocklist_entries
   SET removed_at = now(), removed_by_type = $2, removed_by_id = $3, removal_reason = $4
 WHERE id = $1 AND removed_at IS NULL
RETURNING *, {_EXPIRES}, false AS live
"""
REMOVED_BY = f"""
SELECT *, {_EXPIRES}, false AS live
  FROM blocklist_entries
 WHERE id = $1 AND removed_by_type = $2 AND removed_by_id = $3 AND removal_reason = $4
"""
# The mirror: every unremoved entry (it drops the expired itself), or some, live or not.
MIRROR_ALL = f"SELECT id, kind, value, {_EXPIRES} FROM blocklist_entries WHERE removed_at IS NULL"
# Counted before a full load, so that the matcher sizes its tables once (Matcher.reserve).
MIRROR_SIZES = """
SELECT count(*) AS entries,
       count(*) FILTER (WHERE kind NOT IN ('ip', 'ip_range')) AS exact,
       count(*) FILTER (WHERE kind = 'ip' AND strpos(value, ':') = 0) AS v4_addresses,
       count(expires_at) AS expiring
  FROM blocklist_entries WHERE removed_at IS NULL
"""
MIRROR_SOME = f"""
SELECT id, kind, value, {_EXPIRES}, removed_at IS NULL AS live
  FROM blocklist_entries WHERE id = ANY($1::bigint[])
"""
# Radar's lists: the live entries of the kinds it mirrors, and how many of the others.
RADAR_MIRRORED = f"""
SELECT id, kind, value, display FROM blocklist_entries
 WHERE {LIVE} AND kind = ANY($1::text[]) ORDER BY id
"""
RADAR_NOT_MIRRORED = f"""
SELECT kind, count(*) AS live FROM blocklist_entries
 WHERE {LIVE} AND kind = ANY($1::text[]) GROUP BY kind
"""

# -- bulk unblocks ----------------------------------------------------------------------------
INSERT_BULK = """
INSERT INTO blocklist_bulk_unblocks (entry_ids, reason, requested_by_id)
VALUES ($1, $2, $3) RETURNING id
"""
LOCK_BULK = """
SELECT b.*, maker.username AS maker FROM blocklist_bulk_unblocks b
  LEFT JOIN staff_users maker ON maker.id = b.requested_by_id
 WHERE b.id = $1 FOR UPDATE OF b
"""
DECIDE_BULK = """
UPDATE blocklist_bulk_unblocks SET decision = $3, decided_by_id = $2, decided_at = now()
 WHERE id = $1
"""
COMPLETE_BULK = """
UPDATE blocklist_bulk_unblocks SET completed_at = now()
 WHERE id = $1 AND completed_at IS NULL RETURNING id
"""

# -- imports ----------------------------------------------------------------------------------
_STALLED = "status = 'running' AND started_at < now() - interval '15 minutes'"
INSERT_IMPORT = """
INSERT INTO blocklist_imports (id, status, rows, total, author_type, author_id)
VALUES ($1, 'queued', $2::jsonb, $3, $4, $5) RETURNING *
"""
IMPORT = "SELECT * FROM blocklist_imports WHERE id = $1"
# Imports whose job never started, or stopped half-way (its process died).
UNFINISHED_IMPORTS = f"""
SELECT id FROM blocklist_imports
 WHERE (status = 'queued' AND created_at < now() - interval '1 minute') OR ({_STALLED})
 ORDER BY created_at
"""
CLAIM_IMPORT = f"""
UPDATE blocklist_imports SET status = 'running', started_at = now()
 WHERE id = $1 AND (status = 'queued' OR ({_STALLED}))
RETURNING rows, author_type, author_id
"""
FINISH_IMPORT = """
UPDATE blocklist_imports SET status = 'done', results = $2::jsonb, blocked = $3, refused = $4,
       finished_at = now()
 WHERE id = $1
"""
