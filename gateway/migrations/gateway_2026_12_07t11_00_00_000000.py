"""The ticket lifecycle: why a request is in Triage.

`triage_reason` is the sentence a team lead reads ("Expired: no action by sam for 3 days",
"Customer did not answer for 7 days: close or re-post", "Returned: sam was deactivated"),
written by the lifecycle job or by a deactivation (gateway/change_requests/lifecycle.py);
`triage_kind` says which of the three it is, for the screen's filters; `triage_reason_at` when.

Any action on the request clears them: an action is what moves `progress_at` (every step of the
workflow and of Apply, by the assignee or a lead), the same clock the expiry and the stale flag
read. A trigger does it, so that no step can forget.

The Triage view: open requests that are unassigned, stale, marked by the lifecycle, or
misrouted, each with `why` as a sentence. "Expired" is now what the job did (the request came
back unassigned), no longer "filed more than N days ago", which flagged every request still in
work; a request waiting on the customer is marked after BG_CUSTOMER_SILENT_DAYS.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-07T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "change requests: triage reason (ticket lifecycle); triage view says why"

# Keep in step with OPEN_STATUSES.
_OPEN = (
    "('new', 'assigned', 'in_progress', 'waiting_customer', 'rejected',"
    " 'awaiting_approval', 'applying', 'apply_failed')"
)
# The display form of a ticket, as gateway.tickets.display_ticket writes it.
_TICKET = "split_part(r.ticket, ':', 1) || ' #' || substr(r.ticket, strpos(r.ticket, ':') + 1)"
_STALE_HOURS = "COALESCE(NULLIF(current_setting('bg.stale_hours', true), ''), '24')::integer"
_STALE = (
    "(r.status IN ('assigned', 'in_progress', 'rejected', 'apply_failed')"
    f" AND r.progress_at < now() - make_interval(hours => {_STALE_HOURS}))"
)
_IDLE_HOURS = "floor(extract(epoch FROM now() - r.progress_at) / 3600)::integer"
_STALE_SENTENCE = (
    "'Stale: no progress' || COALESCE(' by ' || a.username, '') || ' for ' ||"
    f" CASE WHEN {_IDLE_HOURS} >= 48 THEN ({_IDLE_HOURS} / 24)::text || ' days'"
    f" ELSE {_IDLE_HOURS}::text || ' hours' END"
)
_WHY = (
    "concat_ws('. ',"
    " CASE WHEN r.triage_reason IS NOT NULL THEN r.triage_reason"
    f"      WHEN {_STALE} THEN {_STALE_SENTENCE}"
    "      WHEN r.assignee_id IS NULL THEN 'Unassigned' END,"
    " CASE WHEN NOT r.contact_reasons_fit_kind THEN 'Contact reasons do not fit' END)"
)

FORWARDS = [
    "ALTER TABLE change_requests ADD COLUMN triage_reason text",
    "ALTER TABLE change_requests ADD COLUMN triage_reason_at timestamptz",
    "ALTER TABLE change_requests ADD COLUMN triage_kind varchar(20)"
    " CHECK (triage_kind IN ('expired', 'customer_silent', 'staff_deactivated'))",
    # What the lifecycle job looks at: assigned work by its last action.
    "CREATE INDEX change_requests_in_work ON change_requests (progress_at)"
    " WHERE status IN ('assigned', 'in_progress', 'waiting_customer')",
    """
    CREATE FUNCTION change_requests_action_clears_triage_reason() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.progress_at IS DISTINCT FROM OLD.progress_at
           AND NEW.triage_reason IS NOT DISTINCT FROM OLD.triage_reason THEN
            NEW.triage_reason := NULL;
            NEW.triage_reason_at := NULL;
            NEW.triage_kind := NULL;
        END IF;
        RETURN NEW;
    END
    $$
    """,
    "CREATE TRIGGER change_requests_action_clears_triage_reason"
    " BEFORE UPDATE OF progress_at ON change_requests FOR EACH ROW"
    " WHEN (OLD.triage_reason IS NOT NULL)"
    " EXECUTE FUNCTION change_requests_action_clears_triage_reason()",
    "DROP VIEW triage",
    f"""
    CREATE VIEW triage AS
    SELECT r.id, {_TICKET} AS ticket, substr(r.ticket, strpos(r.ticket, ':') + 1) AS ticket_id, r.kind, r.status,
           r.assignee_id AS assignee, r.assignee_id IS NULL AS unassigned,
           {_WHY} AS why, {_STALE} AS stale,
           r.triage_kind IS NOT DISTINCT FROM 'expired' AS expired,
           r.triage_kind IS NOT DISTINCT FROM 'customer_silent' AS customer_silent,
           r.triage_kind IS NOT DISTINCT FROM 'staff_deactivated' AS returned,
           NOT r.contact_reasons_fit_kind AS reasons_mismatch,
           array_to_string(r.contact_reasons, '; ') AS contact_reasons,
           r.company_name, r.created_at, r.progress_at, r.triage_reason_at
      FROM change_requests r
      LEFT JOIN staff_users a ON a.id = r.assignee_id
     WHERE r.status IN {_OPEN}
       AND (r.assignee_id IS NULL OR {_STALE} OR r.triage_reason IS NOT NULL
            OR NOT r.contact_reasons_fit_kind)
    """,
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
