"""Every statement on the audit trail (audit_records, audit_chain, audit_checkpoints,
audit_checkpoint_deliveries, audit_subject_keys; audit_action_names through audit_action())."""

from audit.actions import Action

# The time goes in as microseconds since 1970 ($9, what the MAC covers), with no datetime to
# encode. Exact at any date: seconds and microseconds apart, since an interval is multiplied by
# a double (a count of microseconds alone is exact only within 2^53 of 1970: 1684 to 2255).
INSERT_ENTRY = (
    "INSERT INTO audit_records (actor_type, actor_id, action, target_type, target_id,"
    " request_id, subject, payload, occurred_at, mac)"
    " SELECT $1, $2, $3, $4, $5, $6, $7::varchar, $8, timestamptz 'epoch'"
    " + $9::bigint / 1000000 * interval '1 second'"
    " + $9::bigint % 1000000 * interval '1 microsecond', $10"
)
# The data key this process holds must still be the subject's live key (another process may
# have forgotten the subject since): otherwise nothing is written, and the key is looked up again.
UNDER_LIVE_KEY = (
    " WHERE EXISTS (SELECT 1 FROM audit_subject_keys"
    " WHERE subject = $7::varchar AND key_id = $11 AND wrapped_key IS NOT NULL)"
)
INSERT_UNDER_LIVE_KEY = INSERT_ENTRY + UNDER_LIVE_KEY  # its status tells whether it went in
ENTRY_AT = """
SELECT r.*, audit_action(r.action) AS named FROM audit_chain c
  JOIN audit_records r ON r.id = c.entry_id WHERE c.seq = $1
"""
NEWEST_ENTRY = "SELECT coalesce(max(id), 0) FROM audit_records"
# An export's filter: entries up to $1 (the newest when it started), since, until, action, subject.
_FILTERED = """
 WHERE r.id <= $1
   AND ($2::timestamptz IS NULL OR r.occurred_at >= $2)
   AND ($3::timestamptz IS NULL OR r.occurred_at < $3)
   AND ($4::text IS NULL OR r.action = ANY(audit_spellings(ARRAY[$4::text])))
   AND ($5::text IS NULL OR r.subject = $5)"""
EXPORT_COUNT = "SELECT count(*) FROM audit_records r" + _FILTERED  # noqa: S608 (constants)
EXPORT_PAGE = f"""
SELECT c.seq, r.id, r.occurred_at, r.actor_type, r.actor_id, r.action,
       audit_action(r.action) AS action_name, r.target_type, r.target_id, r.request_id,
       r.subject, r.mac, r.payload, r.data
  FROM audit_records r LEFT JOIN audit_chain c ON c.entry_id = r.id{_FILTERED}
   AND r.id > $6 ORDER BY r.id LIMIT $7
"""  # noqa: S608 (constants)
# The dashboard's actions ($1) per day since $2 in time zone $3, and who applied (admin/).
ACTIONS_PER_DAY = f"""
SELECT audit_action(a.action) AS action, (a.occurred_at AT TIME ZONE $3)::date AS day,
       s.id AS staff_id, s.username, count(*) AS count
  FROM audit_records a
  LEFT JOIN staff_users s
    ON a.action = ANY(audit_spellings(ARRAY['{Action.CHANGE_REQUEST_APPLY_STARTED}']))
   AND a.actor_type = 'staff' AND s.username = a.actor_id
 WHERE a.action = ANY(audit_spellings($1::text[])) AND a.occurred_at >= $2
 GROUP BY 1, 2, 3, 4
"""  # noqa: S608 (a constant)
HEAD = "SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1"
CHAIN_LENGTH = "SELECT coalesce(max(seq), 0) FROM audit_chain"  # what verify() walks: cheap
HASH_AT = "SELECT hash FROM audit_chain WHERE seq = $1"
NEWEST_SEALED = "SELECT max(entry_id) AS id FROM audit_chain"
# Entries commit out of id order, but not by much: a quick seal looks only this far below the
# newest sealed entry; the minute job looks at everything, so a long transaction is still sealed.
RECENT_WINDOW = 2_000
_ENTRY_COLUMNS = """
       r.id, r.occurred_at, r.actor_type, r.actor_id, r.action, r.target_type, r.target_id,
       r.request_id, r.subject, r.payload, r.data::text AS data, r.mac"""
# Ids first (an index-only anti-join), then the rows: sorting whole rows would spill to disk.
# The first $1 (NULL: all) above id $2. Bounded by the newest id as well, which finds the same
# entries: on a trail not analysed yet (a new deployment's first minutes, the bench) the planner
# takes a range open at one end for a third of the table, and read all of the entries and all of
# the chain at every seal, each seal dearer than the last; a range with both ends it takes for a
# small one, and reads it from the indexes.
UNSEALED_BATCH = f"""
WITH pending AS (
    SELECT r.id FROM audit_records r
     WHERE r.id > $2 AND r.id <= (SELECT max(id) FROM audit_records)
       AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.entry_id = r.id)
     ORDER BY r.id
     LIMIT $1
)
SELECT{_ENTRY_COLUMNS}
  FROM pending JOIN audit_records r USING (id)
 ORDER BY r.id
"""  # noqa: S608 (constants)
# The entries after seq $1 (whose hash is $2) by id ($3) and their hashes ($4, space-separated:
# asyncpg checks each element of a text array against three abstract classes, which cost the
# sealer more than its hashing), each linked to the hash before it.
SEAL = """
INSERT INTO audit_chain (seq, entry_id, prev_hash, hash)
SELECT $1::bigint + n, entry_id, coalesce(lag(hash) OVER (ORDER BY n), $2::text), hash
  FROM unnest($3::bigint[], string_to_array($4::text, ' ')) WITH ORDINALITY AS s (entry_id, hash, n)
"""
CHAIN = f"""
SELECT c.seq, c.entry_id, c.prev_hash, c.hash,{_ENTRY_COLUMNS}
  FROM audit_chain c LEFT JOIN audit_records r ON r.id = c.entry_id
 WHERE c.seq > $1
 ORDER BY c.seq
 LIMIT $2
"""  # noqa: S608 (constants)
COPIES = """
SELECT c.seq, twin_c.seq AS twin_seq, twin.id AS twin_id
  FROM audit_chain c
  JOIN audit_records r ON r.id = c.entry_id
  JOIN audit_records twin ON twin.mac = r.mac AND twin.id <> r.id
  LEFT JOIN audit_chain twin_c ON twin_c.entry_id = twin.id
 WHERE c.seq > $1 AND (twin_c.seq IS NULL OR twin_c.seq < c.seq)
"""
# The /metrics probe: entries are sealed in id order, so only those above the chain's head
# (less the window for out-of-order commits) can be unsealed, and the anti-join stays small.
SEAL_LAG = f"""
SELECT count(*) AS depth, max(now() - r.occurred_at) AS oldest FROM audit_records r
 WHERE r.id > coalesce((SELECT max(entry_id) FROM audit_chain), 0) - {RECENT_WINDOW}
   AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.entry_id = r.id)
"""  # noqa: S608 (a constant)
ANY_MAC = "SELECT 1 FROM audit_records WHERE mac IS NOT NULL LIMIT 1"
CHECKPOINTS = (
    "SELECT seq, head_hash, signed_at::text AS signed_at, public_key, signature"
    " FROM audit_checkpoints ORDER BY seq"
)
LAST_CHECKPOINT = CHECKPOINTS + " DESC LIMIT 1"
LAST_CHECKPOINT_SEQ = "SELECT coalesce(max(seq), 0) FROM audit_checkpoints"
CHECKPOINT_SEQS = "SELECT seq FROM audit_checkpoints"
CHECKPOINTS_TO_COPY = (
    "SELECT seq, head_hash, signed_at, public_key, signature FROM audit_checkpoints"
    " WHERE seq = ANY($1::bigint[]) ORDER BY seq"
)
INSERT_CHECKPOINT = (
    "INSERT INTO audit_checkpoints (seq, head_hash, signed_at, public_key, signature)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING"
)
NOT_DELIVERED = (
    "SELECT c.seq FROM audit_checkpoints c WHERE NOT EXISTS (SELECT 1 FROM"
    " audit_checkpoint_deliveries d WHERE d.sink = $1 AND d.seq = c.seq)"
)
DELIVERED = (
    "INSERT INTO audit_checkpoint_deliveries (sink, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING"
)
INSERT_KEY = (
    "INSERT INTO audit_subject_keys (subject, key_id, wrapped_key, kek_id)"
    " VALUES ($1, $2, $3, $4) ON CONFLICT (subject) DO NOTHING RETURNING key_id"
)
KEY_OF = "SELECT key_id, wrapped_key, kek_id FROM audit_subject_keys WHERE subject = $1"
_LIVE_KEYS = (
    "SELECT subject, wrapped_key, kek_id FROM audit_subject_keys WHERE wrapped_key IS NOT NULL"
)
LIVE_KEYS = _LIVE_KEYS + " ORDER BY subject"
KEYS_TO_REWRAP = _LIVE_KEYS + " AND kek_id <> $1 ORDER BY subject"
REWRAP = (
    "UPDATE audit_subject_keys SET wrapped_key = $2, kek_id = $3 WHERE subject = $1 AND kek_id = $4"
)
FORGET = (
    "UPDATE audit_subject_keys SET wrapped_key = NULL, forgotten_at = now()"
    " WHERE subject = $1 AND wrapped_key IS NOT NULL RETURNING subject"
)
# Keys destroyed (or whose row is gone) with no entry of their forgetting.
KEYS_GONE = f"""
WITH gone AS (
    SELECT subject FROM audit_subject_keys WHERE wrapped_key IS NULL
    UNION
    SELECT DISTINCT r.subject FROM audit_records r
     WHERE r.payload IS NOT NULL AND r.payload <> 'erased'
       AND NOT EXISTS (SELECT 1 FROM audit_subject_keys k WHERE k.subject = r.subject)
)
SELECT subject FROM gone
 WHERE NOT EXISTS (SELECT 1 FROM audit_records e
                    WHERE e.action = ANY(audit_spellings(
                              ARRAY['{Action.AUDIT_FORGET_SUBJECT_SUCCEEDED}']))
                     AND e.target_type = 'audit_subject' AND e.target_id = gone.subject)
 ORDER BY subject
"""  # noqa: S608 (a constant)
