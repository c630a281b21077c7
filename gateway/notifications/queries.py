"""Every statement on notification endpoints, events (and their sequences), deliveries and
attempts."""

from __future__ import annotations

import uuid
from typing import Any

from gateway.core.cursor import decode_cursor
from gateway.core.db.connection import fetch

MAX_LIMIT = 200
# What an endpoint shows: never its secret.
ENDPOINT_COLUMNS = (
    "id, url, description, events, client, language, enabled, disabled_at, disabled_reason,"
    " failing_since, last_success_at, created_by, created_at, updated_at"
)
_CHANGED = f" updated_at = now() WHERE id = $1 RETURNING {ENDPOINT_COLUMNS}"
ENDPOINTS = f"SELECT {ENDPOINT_COLUMNS} FROM notification_endpoints"  # noqa: S608
ENDPOINT = f"{ENDPOINTS} WHERE id = $1"
INSERT_ENDPOINT = f"""
INSERT INTO notification_endpoints
       (id, url, description, events, client, secret_ciphertext, created_by, language)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) RETURNING {ENDPOINT_COLUMNS}
"""  # noqa: S608 (constants)
SAME_ENDPOINT = """
SELECT id FROM notification_endpoints WHERE coalesce(client, '') = coalesce($1, '') AND url = $2
"""
UPDATE_ENDPOINT = f"""
UPDATE notification_endpoints SET url = coalesce($2, url), events = coalesce($3, events),
       description = coalesce($4, description), language = coalesce($5, language),{_CHANGED}
"""  # noqa: S608 (constants)
DISABLE_ENDPOINT = f"""
UPDATE notification_endpoints SET enabled = false, disabled_reason = $2,
       disabled_at = CASE WHEN enabled THEN now() ELSE disabled_at END,{_CHANGED}
"""  # noqa: S608 (constants)
ENABLE_ENDPOINT = f"""
UPDATE notification_endpoints SET enabled = true, disabled_at = NULL, disabled_reason = NULL,
       failing_since = NULL,{_CHANGED}
"""  # noqa: S608 (constants)
NEW_SECRET = f"UPDATE notification_endpoints SET secret_ciphertext = $2,{_CHANGED}"  # noqa: S608
# The sender's view of an endpoint, its secret included.
SENDING_TO = "SELECT url, enabled, secret_ciphertext FROM notification_endpoints WHERE id = $1"
SUCCEEDED = (
    "UPDATE notification_endpoints SET failing_since = NULL, last_success_at = now() WHERE id = $1"
)
# Whether it has been failing longer than $2 seconds.
FAILING = """
UPDATE notification_endpoints SET failing_since = coalesce(failing_since, now()) WHERE id = $1
RETURNING failing_since, failing_since <= now() - make_interval(secs => $2::float8) AS overdue
"""
ENABLED_ENDPOINTS = "SELECT id, events, client FROM notification_endpoints WHERE enabled"

# The body an endpoint is sent: the event's, with the note in the endpoint's language when the
# event has one in it (`e` the event, `p` the endpoint). Resending sends the same body.
BODY_FOR_ENDPOINT = (
    "CASE WHEN e.notes ? p.language"
    " THEN jsonb_set(e.payload, '{data,note}', e.notes -> p.language) ELSE e.payload END"
)
# One statement, one round trip: the subject's next number (its counter row stays locked until
# the commit, so two changes of one subject are numbered in commit order), then the event with
# that number written into its body.
INSERT_EVENT = """
WITH numbered AS (
    INSERT INTO notification_sequences AS s (subject_type, subject_id, last_sequence)
    VALUES ($3, $4, 1)
    ON CONFLICT (subject_type, subject_id) DO UPDATE SET last_sequence = s.last_sequence + 1
    RETURNING last_sequence
)
INSERT INTO notification_events (id, type, subject_type, subject_id, sequence, client, customer,
                                 payload, occurred_at, notes)
SELECT $1, $2, $3, $4, last_sequence, $5, $6::jsonb,
       jsonb_set($7::jsonb, '{data,sequence}', to_jsonb(last_sequence)), $8, $9::jsonb
  FROM numbered
"""
# INSERT_EVENT as two CTEs of a caller's statement (filing's, gateway/change_requests/queries.py):
# they write the event once per row of the caller's CTE `{gate}` (nothing when it has none). Its
# values are INSERT_EVENT's $1..$9, renumbered by the caller.
EVENT_CTES = """
numbered AS (
    INSERT INTO notification_sequences AS s (subject_type, subject_id, last_sequence)
    SELECT $3, $4, 1 FROM {gate}
    ON CONFLICT (subject_type, subject_id) DO UPDATE SET last_sequence = s.last_sequence + 1
    RETURNING last_sequence
),
told AS (
    INSERT INTO notification_events (id, type, subject_type, subject_id, sequence, client,
                                     customer, payload, occurred_at, notes)
    SELECT $1, $2, $3, $4, last_sequence, $5, $6::jsonb,
           jsonb_set($7::jsonb, '{{data,sequence}}', to_jsonb(last_sequence)), $8, $9::jsonb
      FROM numbered RETURNING 1
)"""
PAYLOAD = f"""
SELECT {BODY_FOR_ENDPOINT} AS payload
  FROM notification_events e, notification_endpoints p WHERE e.id = $1 AND p.id = $2
"""  # noqa: S608 (a constant)
# The first $1 events not fanned out yet, in order.
WAITING_EVENTS = """
SELECT id, type, client, customer FROM notification_events
 WHERE fanned_out_at IS NULL ORDER BY position LIMIT $1
"""
FANNED_OUT = "UPDATE notification_events SET fanned_out_at = now() WHERE id = ANY($1::uuid[])"
# Up to 5000 events older than $1 days with nothing left to send (a pending delivery keeps
# its event whatever its age), with their deliveries and attempts.
PURGE = """
DELETE FROM notification_events e
 WHERE e.id IN (
    SELECT id FROM notification_events
     WHERE occurred_at < now() - make_interval(days => $1) AND fanned_out_at IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM notification_deliveries d
                        WHERE d.event_id = notification_events.id AND d.status = 'pending')
     ORDER BY position LIMIT 5000)
RETURNING 1
"""
# The dashboard's daily counts of one event type ($4) since $2, by day in time zone $3.
EVENTS_PER_DAY = """
SELECT type, (occurred_at AT TIME ZONE $3)::date, NULL, NULL, count(*)
  FROM notification_events
 WHERE type = $4 AND occurred_at >= $2
 GROUP BY 1, 2
"""

DELIVERY_SELECT = """
SELECT d.id, d.event_id, e.type AS event_type, e.subject_type, e.subject_id, e.sequence,
       e.position, d.endpoint_id, p.url AS endpoint_url, p.client AS endpoint_client, d.status,
       d.attempts, d.next_attempt_at, d.last_attempt_at, d.delivered_at,
       d.last_response_status, d.created_at
  FROM notification_deliveries d JOIN notification_events e ON e.id = d.event_id
  JOIN notification_endpoints p ON p.id = d.endpoint_id
"""
INSERT_DELIVERIES = """
INSERT INTO notification_deliveries (id, event_id, endpoint_id, next_attempt_at)
SELECT gen_random_uuid(), event_id, endpoint_id, now()
  FROM unnest($1::uuid[], $2::uuid[]) AS fan (event_id, endpoint_id)
    ON CONFLICT (event_id, endpoint_id) DO NOTHING
"""
# The endpoint's earliest pending delivery, by event position, with the body it sends.
NEXT_DELIVERY = f"""
SELECT d.id, d.attempts, d.resend_requested, d.next_attempt_at, d.next_attempt_at <= now() AS due,
       e.id AS event_id, ({BODY_FOR_ENDPOINT})::text AS body
  FROM notification_deliveries d JOIN notification_events e ON e.id = d.event_id
  JOIN notification_endpoints p ON p.id = d.endpoint_id
 WHERE d.endpoint_id = $1 AND d.status = 'pending'
 ORDER BY e.position LIMIT 1
"""  # noqa: S608 (constants)
# Per enabled endpoint with pending deliveries: whether its earliest may be tried now.
DUE_ENDPOINTS = """
SELECT DISTINCT ON (d.endpoint_id) d.endpoint_id, d.next_attempt_at <= now() AS due
  FROM notification_deliveries d
  JOIN notification_events e ON e.id = d.event_id
  JOIN notification_endpoints p ON p.id = d.endpoint_id AND p.enabled
 WHERE d.status = 'pending' ORDER BY d.endpoint_id, e.position
"""
DUE_NOW = """
UPDATE notification_deliveries SET next_attempt_at = now()
 WHERE endpoint_id = $1 AND status = 'pending' AND next_attempt_at > now()
"""
RESEND = """
UPDATE notification_deliveries SET status = 'pending', next_attempt_at = now(),
       resend_requested = true
 WHERE id = $1 AND status <> 'pending' RETURNING id
"""
DELIVERED = """
UPDATE notification_deliveries SET status = 'delivered', attempts = attempts + 1,
       last_attempt_at = now(), delivered_at = now(), last_response_status = $2,
       next_attempt_at = NULL, resend_requested = false
 WHERE id = $1
"""
# A failed try: pending again in $2 seconds, or failed when $2 is NULL.
NOT_DELIVERED = """
UPDATE notification_deliveries SET
       status = CASE WHEN $2::float8 IS NULL THEN 'failed' ELSE 'pending' END,
       attempts = attempts + 1, last_attempt_at = now(), last_response_status = $3,
       next_attempt_at = now() + make_interval(secs => $2::float8), resend_requested = false
 WHERE id = $1 RETURNING next_attempt_at
"""
# The deliveries failed for good, and those failing (pending after a failed try).
DELIVERY_HEALTH = """
SELECT CASE WHEN status = 'failed' THEN 'failed' ELSE 'failing' END AS state, count(*) AS count
  FROM notification_deliveries
 WHERE status = 'failed' OR (status = 'pending' AND attempts > 0)
 GROUP BY 1
"""
INSERT_ATTEMPT = """
INSERT INTO notification_attempts (delivery_id, duration_ms, response_status, error, trigger)
VALUES ($1, $2, $3, $4, $5)
"""
ATTEMPTS = """
SELECT id, attempted_at, duration_ms, response_status, error, trigger
  FROM notification_attempts WHERE delivery_id = $1 ORDER BY id
"""


async def page(
    select: str, filters: dict[str, Any], limit: int, before: str | None, alias: str = ""
) -> list[dict[str, Any]]:
    """Newest first, by keyset on (created_at, id), after `before` (an item's `cursor`);
    `filters`: clauses with one `?` each, and their values."""
    clauses, values = list(filters), list(filters.values())
    if before is not None:
        clauses.append(f"({alias}created_at, {alias}id) < (?, ?)")
        values += decode_cursor(before, uuid.UUID)
    values.append(max(1, min(limit, MAX_LIMIT + 1)))
    tail = (f" WHERE {' AND '.join(clauses)}" if clauses else "") + (
        f" ORDER BY {alias}created_at DESC, {alias}id DESC LIMIT ?"
    )
    for number in range(1, len(values) + 1):
        tail = tail.replace("?", f"${number}", 1)
    return await fetch(select + tail, *values)
