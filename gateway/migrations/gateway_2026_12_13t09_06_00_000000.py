"""The back office's last pages past 100 ms at 10,000,000 change requests (issue 21).

- triage: `stale` is a CASE, not `status IN (...) AND progress_at < ...`. The planner multiplied
  that status test with the view's own `status IN (open)` as if independent and expected ~12
  stale rows where ~14,000 are, so it fetched and sorted them all; a CASE takes a neutral 0.5,
  and the list walks the open requests' index in date order and stops at 15. Same rows.
- change_requests_open, _in_work and _to_review cover what the queue probe (/metrics, the lead's
  dashboard) and the specialists' queues read of the open rows: index-only scans, no fetch of
  each row from the table.
- change_requests_by_checker, and the maker's index with the date: a filter by checker or maker
  lists the newest 15 matches from the index alone. The screens' statements are prepared, and a
  generic plan takes a staff id for a common one (few staff, most rows approved by one lead): it
  walked all requests newest first for a specialist who never checks (7.5 s at 10M). With the
  date in the index, every plan reads only the matching rows, in order, as by_assignee does.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-13T09:06:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "back office: triage stale estimate, covering open indexes, checker index"

FORWARDS: list[str] = [
    """
CREATE OR REPLACE VIEW triage AS
 SELECT r.id,
    ((split_part(r.ticket, ':'::text, 1) || ' #'::text) || substr(r.ticket, (strpos(r.ticket, ':'::text) + 1))) AS ticket,
    substr(r.ticket, (strpos(r.ticket, ':'::text) + 1)) AS ticket_id,
    r.kind,
    r.status,
    r.assignee_id AS assignee,
    (r.assignee_id IS NULL) AS unassigned,
    concat_ws('. '::text,
        CASE
            WHEN (r.triage_reason IS NOT NULL) THEN r.triage_reason
            WHEN ((r.status IN ('assigned', 'in_progress', 'rejected', 'apply_failed')) AND (r.progress_at < (now() - make_interval(hours => (COALESCE(NULLIF(current_setting('bg.stale_hours'::text, true), ''::text), '24'::text))::integer)))) THEN ((('Stale: no progress'::text || COALESCE((' by '::text || (a.username)::text), ''::text)) || ' for '::text) ||
            CASE
                WHEN ((floor((EXTRACT(epoch FROM (now() - r.progress_at)) / (3600)::numeric)))::integer >= 48) THEN ((((floor((EXTRACT(epoch FROM (now() - r.progress_at)) / (3600)::numeric)))::integer / 24))::text || ' days'::text)
                ELSE (((floor((EXTRACT(epoch FROM (now() - r.progress_at)) / (3600)::numeric)))::integer)::text || ' hours'::text)
            END)
            WHEN (r.assignee_id IS NULL) THEN 'Unassigned'::text
            ELSE NULL::text
        END,
        CASE
            WHEN (NOT r.contact_reasons_fit_kind) THEN 'Contact reasons do not fit'::text
            ELSE NULL::text
        END) AS why,
    CASE WHEN (r.status IN ('assigned', 'in_progress', 'rejected', 'apply_failed')) THEN (r.progress_at < (now() - make_interval(hours => (COALESCE(NULLIF(current_setting('bg.stale_hours'::text, true), ''::text), '24'::text))::integer))) ELSE false END AS stale,
    (NOT ((r.triage_kind)::text IS DISTINCT FROM 'expired'::text)) AS expired,
    (NOT ((r.triage_kind)::text IS DISTINCT FROM 'customer_silent'::text)) AS customer_silent,
    (NOT ((r.triage_kind)::text IS DISTINCT FROM 'staff_deactivated'::text)) AS returned,
    (NOT r.contact_reasons_fit_kind) AS reasons_mismatch,
    array_to_string(r.contact_reasons, '; '::text) AS contact_reasons,
    r.company_name,
    r.created_at,
    r.progress_at,
    r.triage_reason_at
   FROM (change_requests r
     LEFT JOIN staff_users a ON ((a.id = r.assignee_id)))
  WHERE ((r.status IN ('new', 'assigned', 'in_progress', 'waiting_customer', 'rejected', 'awaiting_approval', 'applying', 'apply_failed')) AND ((r.assignee_id IS NULL) OR CASE WHEN (r.status IN ('assigned', 'in_progress', 'rejected', 'apply_failed')) THEN (r.progress_at < (now() - make_interval(hours => (COALESCE(NULLIF(current_setting('bg.stale_hours'::text, true), ''::text), '24'::text))::integer))) ELSE false END OR (r.triage_reason IS NOT NULL) OR (NOT r.contact_reasons_fit_kind)))
""",
    "DROP INDEX IF EXISTS change_requests_open",
    "CREATE INDEX change_requests_open ON change_requests (created_at) INCLUDE (status, assignee_id, progress_at, contact_reasons_fit_kind, triage_reason) WHERE (status IN ('new', 'assigned', 'in_progress', 'waiting_customer', 'rejected', 'awaiting_approval', 'applying', 'apply_failed'))",
    "DROP INDEX IF EXISTS change_requests_in_work",
    "CREATE INDEX change_requests_in_work ON change_requests (progress_at) INCLUDE (assignee_id, created_at) WHERE (status IN ('assigned', 'in_progress', 'waiting_customer'))",
    "DROP INDEX IF EXISTS change_requests_to_review",
    "CREATE INDEX change_requests_to_review ON change_requests (processed_at) INCLUDE (created_at) WHERE ((status IN ('applied', 'processed')) AND review_required)",
    "DROP INDEX IF EXISTS change_requests_by_maker",
    "CREATE INDEX change_requests_by_maker ON change_requests (processed_by_id, created_at DESC) WHERE (processed_by_id IS NOT NULL)",
    "CREATE INDEX change_requests_by_checker ON change_requests (reviewed_by_id, created_at DESC) WHERE (reviewed_by_id IS NOT NULL)",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
