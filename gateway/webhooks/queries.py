"""Every statement on the webhook inbox (webhook_events, provider_watermarks)."""

INSERT = """
INSERT INTO webhook_events
    (provider, event_id, event_type, object_type, object_id, account_id, event_created, payload)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
ON CONFLICT (provider, event_id) DO NOTHING
RETURNING id
"""
PENDING = (
    "SELECT id FROM webhook_events WHERE processed_at IS NULL AND provider = ANY($1::text[])"
    " ORDER BY received_at LIMIT $2"
)
PROVIDER = "SELECT provider FROM webhook_events WHERE id = $1"
LOCK_STRIPE = """
SELECT id, event_id, event_type, object_id, event_created, payload
  FROM webhook_events WHERE id = $1 AND provider = 'stripe' AND processed_at IS NULL
   FOR UPDATE SKIP LOCKED
"""
NEWER_SEEN = """
SELECT 1 FROM webhook_events
 WHERE provider = 'stripe' AND object_id = $1 AND processed_at IS NOT NULL
   AND event_created > $2 LIMIT 1
"""
UNPROCESSED = """
SELECT id, event_id, event_type, object_type, object_id, account_id, payload
  FROM webhook_events WHERE id = $1 AND processed_at IS NULL
"""
LOCK = "SELECT id FROM webhook_events WHERE id = $1 AND processed_at IS NULL FOR UPDATE SKIP LOCKED"
DONE = "UPDATE webhook_events SET processed_at = now(), outcome = $2 WHERE id = $1"
DEPTH = """
SELECT provider, count(*) AS depth, max(now() - received_at) AS oldest
  FROM webhook_events WHERE processed_at IS NULL GROUP BY provider
"""
PULLED_UNTIL = "SELECT pulled_until FROM provider_watermarks WHERE name = $1"
ADVANCE = """
INSERT INTO provider_watermarks (name, pulled_until) VALUES ($1, $2)
    ON CONFLICT (name) DO UPDATE
       SET pulled_until = GREATEST(provider_watermarks.pulled_until, EXCLUDED.pulled_until),
           updated_at = now()
"""
