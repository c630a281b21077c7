"""Every statement on idempotency keys (idempotency_keys)."""

# The claim commits without waiting for its WAL flush (`synchronous_commit` off for its own
# transaction only): one fsync fewer per POST. Nothing relies on a claim surviving a PostgreSQL
# crash: the attempt holding it dies with its connection, and whatever a client is answered
# (the service's change with its answer, a stored refusal) commits synchronously later, which
# flushes the claim's WAL with it.
INSERT = """
INSERT INTO idempotency_keys (id, api_key, key, fingerprint, method, path, state, locked_at,
                              created_at, holder)
SELECT $1, $2, $3, $4, $5, $6, 'running', now(), now(), $7
  FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed
    ON CONFLICT (api_key, key) DO NOTHING RETURNING id, locked_at
"""
# `stale`: the claim may be taken over, its time being up or its holder's lease not held. The
# shared try-lock succeeds only when no session holds the lease; it conflicts with no other
# check and ends with the statement. CASE keeps the lock check to running claims.
FIND = """
SELECT id, fingerprint, state, response_status, response_content_type, response_body,
       CASE WHEN state <> 'running' THEN false WHEN locked_at < now() - $2::interval THEN true
            WHEN holder IS NULL THEN false ELSE pg_try_advisory_xact_lock_shared($3, holder)
       END AS stale
  FROM idempotency_keys WHERE api_key = $1 AND key = $4
"""
TAKE_OVER = """
UPDATE idempotency_keys SET locked_at = now(), holder = $4
 WHERE id = $1 AND state = 'running'
   AND CASE WHEN locked_at < now() - $2::interval THEN true WHEN holder IS NULL THEN false
            ELSE pg_try_advisory_xact_lock_shared($3, holder) END
RETURNING id, locked_at
"""
# The answer, stored by the claim (while it still holds the key) or by its (api_key, key).
_STORE = """
UPDATE idempotency_keys SET state = 'done', response_status = $3, response_content_type = $4,
       response_body = $5, completed_at = now()
"""
COMPLETE = _STORE + " WHERE id = $1 AND locked_at = $2"
STORE_ANSWER = _STORE + " WHERE api_key = $1 AND key = $2"
RELEASE = "DELETE FROM idempotency_keys WHERE id = $1 AND locked_at = $2 AND state = 'running'"
ABANDON = "UPDATE idempotency_keys SET locked_at = '-infinity' WHERE id = $1 AND locked_at = $2"
PURGE_EXPIRED = """
WITH gone AS (DELETE FROM idempotency_keys WHERE created_at < now() - $1::interval RETURNING 1)
SELECT count(*) AS n FROM gone
"""
# Locks the key's record until the commit (see answers.earlier_answer).
EARLIER_ANSWER = """
SELECT state, response_status, response_body FROM idempotency_keys
 WHERE api_key = $1 AND key = $2 FOR NO KEY UPDATE
"""
# Fragments for one statement that files a change and stores its answer together (see
# gateway/change_requests/queries.py FILE): `{api_key}`, `{key}` and the answer's `{status}`,
# `{content_type}`, `{body}` are that statement's parameters; `{changed}` names its CTE that
# returns a row when the change was made. HELD locks the record as EARLIER_ANSWER does.
HELD = """
SELECT state, response_status, response_body FROM idempotency_keys
 WHERE api_key = {api_key} AND key = {key} FOR NO KEY UPDATE
"""
STORE_IF_CHANGED = """
UPDATE idempotency_keys SET state = 'done', response_status = {status},
       response_content_type = {content_type}, response_body = {body}, completed_at = now()
 WHERE api_key = {api_key} AND key = {key} AND EXISTS (SELECT 1 FROM {changed}) RETURNING 1
"""
# Where the key is not claimed yet (`context.FreshClaim`): the filing statement inserts the
# key's record with its answer, gated on `{changed}` (its CTE that returns a row when the
# change may be made). A key held already fails the statement on CLIENT_KEY, rolling all of
# it back: the caller answers as for a claimed key (a replay, a reuse, a request in progress).
CLIENT_KEY = "idempotency_keys_client_key"  # the unique index on (api_key, key)
CLAIM_WITH_ANSWER = """
INSERT INTO idempotency_keys (api_key, key, fingerprint, method, path, state, locked_at,
                              created_at, response_status, response_content_type,
                              response_body, completed_at)
SELECT {api_key}, {key}, {fingerprint}, {method}, {path}, 'done', now(), now(), {status},
       {content_type}, {body}, now() FROM {changed} RETURNING 1
"""
