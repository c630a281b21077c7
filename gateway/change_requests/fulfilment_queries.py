"""Every statement on `fulfilment_runs` and `fulfilment_steps` (Apply's runs and their steps),
run with `gateway.core.db.connection.fetch` in the caller's transaction."""

# $1 the run's id, $2 the request, $3 its status, $4 the plan's hash, $5 the preview, $6 the actor
# (JSON), $7 their staff id, $8 seconds to the deadline, $9 the acknowledged checks (JSON), $10
# the identity override's reason. Numbered after the request's earlier runs.
START_RUN = """
INSERT INTO fulfilment_runs (id, change_request_id, number, status, plan_hash, preview_id,
       started_by, started_by_staff_id, deadline_at, acknowledged, identity_override_reason)
VALUES ($1, $2, (SELECT coalesce(max(number), 0) + 1 FROM fulfilment_runs
                 WHERE change_request_id = $2),
        $3, $4, $5, $6::jsonb, $7, now() + make_interval(secs => $8), $9::jsonb, $10)
RETURNING number
"""
RUNS_OF_REQUEST = """
SELECT * FROM fulfilment_runs
 WHERE change_request_id = $1 AND ($2::text IS NULL OR status = $2) ORDER BY number
"""
LOCK_RUN = "SELECT * FROM fulfilment_runs WHERE id = $1 FOR UPDATE"
TOUCH_RUN = "UPDATE fulfilment_runs SET updated_at = now() WHERE id = $1"
# The run in status $4 runs (again) until $2 seconds from now; $3 the lead who approved it.
RUN = """
UPDATE fulfilment_runs SET status = 'running', approved_by_id = coalesce($3, approved_by_id),
       error_code = NULL, error_message = NULL, finished_at = NULL, updated_at = now(),
       deadline_at = now() + make_interval(secs => $2) WHERE id = $1 AND status = $4
"""
# The run in status $5 ends as $2, with the error $3 and its sentence $4.
END_RUN = """
UPDATE fulfilment_runs SET status = $2, error_code = $3, error_message = $4, finished_at = now(),
       updated_at = now() WHERE id = $1 AND status = $5
"""
# The last run of a request, for the notification of its outcome.
LAST_RUN = """
SELECT r.id, r.status, r.error_code, r.error_message,
       array(SELECT DISTINCT s.provider FROM fulfilment_steps s WHERE s.run_id = r.id
              ORDER BY s.provider) AS providers,
       (SELECT s.provider FROM fulfilment_steps s WHERE s.run_id = r.id AND s.status = 'failed'
         ORDER BY s.position LIMIT 1) AS failed_provider
  FROM fulfilment_runs r WHERE r.change_request_id = $1 ORDER BY r.number DESC LIMIT 1
"""

ADD_STEP = """
INSERT INTO fulfilment_steps (id, run_id, position, target, provider, operation, inputs,
       idempotency_key)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)
"""
STEPS_OF_RUN = "SELECT * FROM fulfilment_steps WHERE run_id = $1 ORDER BY position"
STEP_AND_RUN = """
SELECT s.*, r.status AS run_status, r.change_request_id
  FROM fulfilment_steps s JOIN fulfilment_runs r ON r.id = s.run_id WHERE s.id = $1
"""
# Whether a step of the request went out to a provider.
ANY_STEP_CALLED = """
SELECT 1 FROM fulfilment_steps s JOIN fulfilment_runs r ON r.id = s.run_id
 WHERE r.change_request_id = $1 AND s.status <> 'pending' LIMIT 1
"""
# The requests whose Zuora steps created or closed the payment method $1.
REQUESTS_OF_ZUORA_METHOD = """
SELECT DISTINCT r.change_request_id::text AS id
  FROM fulfilment_steps s JOIN fulfilment_runs r ON r.id = s.run_id
 WHERE s.provider = 'zuora' AND (s.result->>'created_id' = $1 OR s.result->>'closed_id' = $1)
"""
CALL_STEP = """
UPDATE fulfilment_steps SET status = 'calling', attempts = attempts + 1,
       started_at = coalesce(started_at, now()) WHERE id = $1
"""
# $2 the result, $3 before, $4 after (JSON), $5 the provider's request id.
STEP_SUCCEEDED = """
UPDATE fulfilment_steps SET status = 'succeeded', result = $2::jsonb, before = $3::jsonb,
       after = $4::jsonb, provider_request_id = $5, error_code = NULL, error_message = NULL,
       finished_at = now() WHERE id = $1
"""
# $2 'failed', or 'calling' when the outcome is unknown; $3 the error, $4 its sentence.
STEP_FAILED = """
UPDATE fulfilment_steps SET status = $2::varchar, error_code = $3, error_message = $4,
       provider_request_id = coalesce($5, provider_request_id),
       finished_at = CASE WHEN $2::varchar = 'failed' THEN now() END WHERE id = $1
"""
RETRY_STEP = """
UPDATE fulfilment_steps SET status = 'pending', idempotency_key = $2, error_code = NULL,
       error_message = NULL, finished_at = NULL WHERE id = $1
"""
# $2 the lead, $3 why, $4 what it made (JSON).
SETTLE_STEP = """
UPDATE fulfilment_steps SET status = 'settled_by_hand', settled_by_id = $2, settled_reason = $3,
       result = coalesce(result, '{}'::jsonb) || $4::jsonb, finished_at = now() WHERE id = $1
"""
