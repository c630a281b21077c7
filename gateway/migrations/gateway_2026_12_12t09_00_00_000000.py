"""Audit actions renamed into one grammar (`audit.actions`): each old spelling and its catalogue
name. Stored entries keep the action they were written with (it is bound into their MAC and their
payload's associated data, and the chain covers them). Readers show the catalogue name
(`audit_action(action)`) and filter with `action = ANY(audit_spellings(names))`, the names and
their old spellings, which the indexes on `audit_records (action)` serve: `audit export
--action` (each line carries the stored `action` and its `action_name`), reading an entry, the
dashboard, `audit verify`. The back office's `audit_entries` shows the catalogue name too (a
filter on it scans: no index can hold a name the table maps)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-12T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit actions: old spellings mapped to the catalogue"

FORWARDS = (
    """
CREATE TABLE audit_action_names (
    old varchar(100) PRIMARY KEY,
    action varchar(100) NOT NULL
)
""",
    """
INSERT INTO audit_action_names (old, action) VALUES
    ('audit.entry.decrypted', 'audit.read_entry.succeeded'),
    ('audit.export.decrypted', 'audit.export.started'),
    ('audit.keys.rotated', 'audit.rotate_keys.succeeded'),
    ('audit.keys.rotation_started', 'audit.rotate_keys.started'),
    ('audit.subject.forget_noop', 'audit.forget_subject.skipped'),
    ('audit.subject.forgotten', 'audit.forget_subject.succeeded'),
    ('blocklist.bulk_unblock.approval_refused', 'blocklist.approve_bulk_unblock.refused'),
    ('blocklist.bulk_unblock.approved', 'blocklist.approve_bulk_unblock.succeeded'),
    ('blocklist.bulk_unblock.completed', 'blocklist.bulk_unblock.succeeded'),
    ('blocklist.bulk_unblock.rejected', 'blocklist.reject_bulk_unblock.succeeded'),
    ('blocklist.bulk_unblock.requested', 'blocklist.bulk_unblock.started'),
    ('blocklist.entry.created', 'blocklist.create_entry.succeeded'),
    ('blocklist.entry.expired', 'blocklist.expire_entry.succeeded'),
    ('blocklist.entry.removed', 'blocklist.remove_entry.succeeded'),
    ('blocklist.import.finished', 'blocklist.import.succeeded'),
    ('blocklist.import.queued', 'blocklist.import.started'),
    ('change_request.apply.requested', 'change_request.apply.started'),
    ('change_request.approval.voided', 'change_request.void_approval.succeeded'),
    ('change_request.customer_silence.marked', 'change_request.mark_customer_silent.succeeded'),
    ('change_request.mark_processed.succeeded', 'change_request.process.succeeded'),
    ('correction.cancel_subscription.refused', 'correction.file_cancel_subscription.refused'),
    ('correction.cancel_subscription.requested', 'correction.file_cancel_subscription.succeeded'),
    ('correction.failed', 'correction.run.failed'),
    ('correction.refund.refused', 'correction.file_refund.refused'),
    ('correction.refund.requested', 'correction.file_refund.succeeded'),
    ('correction.step.settled_by_hand', 'correction.settle_step_by_hand.succeeded'),
    ('correction.succeeded', 'correction.run.succeeded'),
    ('correction.void_invoice.refused', 'correction.file_void_invoice.refused'),
    ('correction.void_invoice.requested', 'correction.file_void_invoice.succeeded'),
    ('fulfilment.step.retry.succeeded', 'fulfilment.retry_step.succeeded'),
    ('fulfilment.step.settled_by_hand.succeeded', 'fulfilment.settle_step_by_hand.succeeded'),
    ('notification_endpoint.disable.automatic', 'notification_endpoint.disable_automatically.succeeded'),
    ('staff.lockout.started', 'staff.lock_out.started'),
    ('staff.login.password_accepted', 'staff.check_password.succeeded'),
    ('staff.mfa.enrolled', 'staff.enrol_mfa.succeeded'),
    ('staff.mfa.reset', 'staff.reset_mfa.succeeded'),
    ('staff.password.reset', 'staff.reset_password.succeeded'),
    ('staff.preferences.updated', 'staff.update_preferences.succeeded'),
    ('staff.role.changed', 'staff.change_role.succeeded')
""",
    """
CREATE FUNCTION audit_action(written varchar) RETURNS varchar
LANGUAGE sql STABLE AS
$$ SELECT COALESCE((SELECT action FROM audit_action_names WHERE old = written), written) $$
""",
    """
CREATE FUNCTION audit_spellings(names text[]) RETURNS text[]
LANGUAGE sql STABLE AS
$$ SELECT names || ARRAY(SELECT old::text FROM audit_action_names WHERE action = ANY(names)) $$
""",
    # A join, not audit_action() per row: a filter on `action` scans, but 20 times faster.
    """
CREATE OR REPLACE VIEW audit_entries AS
 SELECT r.id, c.seq, r.occurred_at, r.actor_type, r.actor_id,
        COALESCE(n.action, r.action)::varchar(100) AS action,
        r.target_type, r.target_id, r.request_id, r.subject,
        CASE WHEN r.payload = 'erased' THEN 'erased'
             WHEN r.payload IS NULL THEN 'masked (before encryption)'
             ELSE 'encrypted' END AS payload_state
   FROM audit_records r LEFT JOIN audit_chain c ON c.entry_id = r.id
   LEFT JOIN audit_action_names n ON n.old = r.action
""",
)


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
