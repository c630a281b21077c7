"""Every audit action, declared once: `<resource>.<verb>.<outcome>`, the target type its entries
name, and the rule that files them under a customer (what `audit forget` erases) or `system`.

Callers name a member (`Action.CHANGE_REQUEST_CANCEL_SUCCEEDED`) and give the `AuditEntry` that
`audit.store.append` writes the row the entry is about; the subject is derived from that row by
the member's rule, never passed by the caller. Old spellings of renamed actions:
`audit_action_names` (a migration).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any

from gateway.core.customers import subject_of
from gateway.core.sensitive import sensitive_kind

OUTCOMES = frozenset({"succeeded", "refused", "failed", "recorded", "started", "skipped"})
GRAMMAR = re.compile(r"[a-z][a-z_]*\.[a-z][a-z_]*\.(" + "|".join(sorted(OUTCOMES)) + ")")


class Subject(enum.Enum):
    """Whose entry it is, from the row it is about."""

    CUSTOMER = "the row's first customer reference (gateway.core.customers)"
    ACCOUNT = "the row's account_id (a correction's or a cheque's account)"
    BLOCKED = "the blocked value, when its kind is customer (other values are no one's)"
    ENTRY = "the subject of the audit entry the row is"
    SYSTEM = "no customer"

    def of(self, row: Mapping[str, Any]) -> str | None:
        if self is Subject.CUSTOMER:  # never a card number or IBAN a filing was refused for
            found = subject_of(row)
            return None if found is None or sensitive_kind(found) else found
        if self is Subject.ACCOUNT:
            return row.get("account_id")
        if self is Subject.BLOCKED:
            return str(row["value"]) if row.get("kind") == "customer" else None
        return row.get("subject") if self is Subject.ENTRY else None


_CUSTOMER, _ACCOUNT, _SYSTEM = Subject.CUSTOMER, Subject.ACCOUNT, Subject.SYSTEM
_REQUEST = "change_request"


class Action(enum.StrEnum):
    """`value`: the name; `subject`: whose entry; `target_type`: the resource unless named."""

    subject: Subject
    target_type: str

    def __new__(cls, value: str, subject: Subject, target_type: str = "") -> Action:
        member = str.__new__(cls, value)
        member._value_ = value
        member.subject = subject
        member.target_type = target_type or value.split(".")[0]
        return member

    @classmethod
    def named(cls, resource: str, verb: str, outcome: str) -> Action:
        """A member spelled from its parts (a transition's verb, a run's outcome)."""
        return cls[f"{resource}_{verb}_{outcome}".upper()]

    API_KEY_CREATE_SUCCEEDED = "api_key.create.succeeded", _SYSTEM
    API_KEY_REVOKE_SUCCEEDED = "api_key.revoke.succeeded", _SYSTEM
    AUDIT_CHECKPOINT_REFUSED = "audit.checkpoint.refused", _SYSTEM
    AUDIT_READ_ENTRY_SUCCEEDED = "audit.read_entry.succeeded", Subject.ENTRY, "audit_entry"
    AUDIT_EXPORT_STARTED = "audit.export.started", _SYSTEM
    AUDIT_ROTATE_KEYS_STARTED = "audit.rotate_keys.started", _SYSTEM
    AUDIT_ROTATE_KEYS_SUCCEEDED = "audit.rotate_keys.succeeded", _SYSTEM
    AUDIT_FORGET_SUBJECT_SUCCEEDED = "audit.forget_subject.succeeded", _SYSTEM, "audit_subject"
    AUDIT_FORGET_SUBJECT_SKIPPED = "audit.forget_subject.skipped", _SYSTEM, "audit_subject"
    BLOCKLIST_CREATE_ENTRY_SUCCEEDED = (
        "blocklist.create_entry.succeeded",
        Subject.BLOCKED,
        "blocklist_entry",
    )
    BLOCKLIST_EXPIRE_ENTRY_SUCCEEDED = (
        "blocklist.expire_entry.succeeded",
        Subject.BLOCKED,
        "blocklist_entry",
    )
    BLOCKLIST_REMOVE_ENTRY_SUCCEEDED = (
        "blocklist.remove_entry.succeeded",
        Subject.BLOCKED,
        "blocklist_entry",
    )
    BLOCKLIST_IMPORT_STARTED = "blocklist.import.started", _SYSTEM, "blocklist_import"
    BLOCKLIST_IMPORT_SUCCEEDED = "blocklist.import.succeeded", _SYSTEM, "blocklist_import"
    BLOCKLIST_BULK_UNBLOCK_STARTED = (
        "blocklist.bulk_unblock.started",
        _SYSTEM,
        "blocklist_bulk_unblock",
    )
    BLOCKLIST_BULK_UNBLOCK_SUCCEEDED = (
        "blocklist.bulk_unblock.succeeded",
        _SYSTEM,
        "blocklist_bulk_unblock",
    )
    BLOCKLIST_APPROVE_BULK_UNBLOCK_SUCCEEDED = (
        "blocklist.approve_bulk_unblock.succeeded",
        _SYSTEM,
        "blocklist_bulk_unblock",
    )
    BLOCKLIST_APPROVE_BULK_UNBLOCK_REFUSED = (
        "blocklist.approve_bulk_unblock.refused",
        _SYSTEM,
        "blocklist_bulk_unblock",
    )
    BLOCKLIST_REJECT_BULK_UNBLOCK_SUCCEEDED = (
        "blocklist.reject_bulk_unblock.succeeded",
        _SYSTEM,
        "blocklist_bulk_unblock",
    )
    BLOCKLIST_RADAR_SYNC_SUCCEEDED = "blocklist.radar_sync.succeeded", _SYSTEM, "radar_value_lists"
    BLOCKLIST_RADAR_SYNC_FAILED = "blocklist.radar_sync.failed", _SYSTEM, "radar_value_lists"
    CHANGE_REQUEST_CREATE_SUCCEEDED = "change_request.create.succeeded", _CUSTOMER
    CHANGE_REQUEST_CREATE_REFUSED = "change_request.create.refused", _CUSTOMER, "ticket"
    CHANGE_REQUEST_CANCEL_SUCCEEDED = "change_request.cancel.succeeded", _CUSTOMER
    CHANGE_REQUEST_ASSIGN_SUCCEEDED = "change_request.assign.succeeded", _CUSTOMER
    CHANGE_REQUEST_START_SUCCEEDED = "change_request.start.succeeded", _CUSTOMER
    CHANGE_REQUEST_WAIT_FOR_CUSTOMER_SUCCEEDED = (
        "change_request.wait_for_customer.succeeded",
        _CUSTOMER,
    )
    CHANGE_REQUEST_RESUME_SUCCEEDED = "change_request.resume.succeeded", _CUSTOMER
    CHANGE_REQUEST_REWORK_SUCCEEDED = "change_request.rework.succeeded", _CUSTOMER
    CHANGE_REQUEST_AMEND_SUCCEEDED = "change_request.amend.succeeded", _CUSTOMER
    CHANGE_REQUEST_APPROVE_SUCCEEDED = "change_request.approve.succeeded", _CUSTOMER
    CHANGE_REQUEST_APPROVE_REFUSED = "change_request.approve.refused", _CUSTOMER
    CHANGE_REQUEST_REJECT_SUCCEEDED = "change_request.reject.succeeded", _CUSTOMER
    CHANGE_REQUEST_REJECT_REFUSED = "change_request.reject.refused", _CUSTOMER
    CHANGE_REQUEST_PROCESS_SUCCEEDED = "change_request.process.succeeded", _CUSTOMER
    CHANGE_REQUEST_PROCESS_REFUSED = "change_request.process.refused", _CUSTOMER
    CHANGE_REQUEST_VOID_APPROVAL_SUCCEEDED = "change_request.void_approval.succeeded", _CUSTOMER
    CHANGE_REQUEST_APPLY_STARTED = "change_request.apply.started", _CUSTOMER
    CHANGE_REQUEST_APPLY_SUCCEEDED = "change_request.apply.succeeded", _CUSTOMER
    CHANGE_REQUEST_APPLY_FAILED = "change_request.apply.failed", _CUSTOMER
    CHANGE_REQUEST_APPLY_REFUSED = "change_request.apply.refused", _CUSTOMER
    CHANGE_REQUEST_APPROVE_PLAN_SUCCEEDED = "change_request.approve_plan.succeeded", _CUSTOMER
    CHANGE_REQUEST_REFUSE_PLAN_SUCCEEDED = "change_request.refuse_plan.succeeded", _CUSTOMER
    CHANGE_REQUEST_RETURN_TO_TRIAGE_SUCCEEDED = (
        "change_request.return_to_triage.succeeded",
        _CUSTOMER,
    )
    CHANGE_REQUEST_EXPIRE_SUCCEEDED = "change_request.expire.succeeded", _CUSTOMER
    CHANGE_REQUEST_MARK_CUSTOMER_SILENT_SUCCEEDED = (
        "change_request.mark_customer_silent.succeeded",
        _CUSTOMER,
    )
    CHANGE_REQUEST_CONTACT_REASONS_RECORDED = "change_request.contact_reasons.recorded", _CUSTOMER
    CHANGE_REQUEST_CONTRACT_RETURN_RECORDED = "change_request.contract_return.recorded", _CUSTOMER
    CHANGE_REQUEST_PROVIDER_EVENT_RECORDED = "change_request.provider_event.recorded", _CUSTOMER
    FULFILMENT_STEP_SUCCEEDED = "fulfilment.step.succeeded", _CUSTOMER, _REQUEST
    FULFILMENT_STEP_FAILED = "fulfilment.step.failed", _CUSTOMER, _REQUEST
    FULFILMENT_RETRY_STEP_SUCCEEDED = "fulfilment.retry_step.succeeded", _CUSTOMER, _REQUEST
    FULFILMENT_SETTLE_STEP_BY_HAND_SUCCEEDED = (
        "fulfilment.settle_step_by_hand.succeeded",
        _CUSTOMER,
        _REQUEST,
    )
    CHEQUE_RECORD_SUCCEEDED = "cheque.record.succeeded", _ACCOUNT
    CHEQUE_RECORD_REFUSED = "cheque.record.refused", _ACCOUNT
    CHEQUE_RECORD_FAILED = "cheque.record.failed", _ACCOUNT
    CHEQUE_BOUNCE_SUCCEEDED = "cheque.bounce.succeeded", _ACCOUNT
    CHEQUE_BOUNCE_REFUSED = "cheque.bounce.refused", _ACCOUNT
    CHEQUE_BATCH_CLOSE_SUCCEEDED = "cheque_batch.close.succeeded", _SYSTEM
    CHEQUE_BATCH_CLOSE_REFUSED = "cheque_batch.close.refused", _SYSTEM
    # Filing: on record, perhaps awaiting approval; the provider's part is `correction.run.*`.
    CORRECTION_FILE_REFUND_SUCCEEDED = "correction.file_refund.succeeded", _ACCOUNT
    CORRECTION_FILE_REFUND_REFUSED = "correction.file_refund.refused", _ACCOUNT
    CORRECTION_FILE_VOID_INVOICE_SUCCEEDED = "correction.file_void_invoice.succeeded", _ACCOUNT
    CORRECTION_FILE_VOID_INVOICE_REFUSED = "correction.file_void_invoice.refused", _ACCOUNT
    CORRECTION_FILE_CANCEL_SUBSCRIPTION_SUCCEEDED = (
        "correction.file_cancel_subscription.succeeded",
        _ACCOUNT,
    )
    CORRECTION_FILE_CANCEL_SUBSCRIPTION_REFUSED = (
        "correction.file_cancel_subscription.refused",
        _ACCOUNT,
    )
    CORRECTION_APPROVE_SUCCEEDED = "correction.approve.succeeded", _ACCOUNT
    CORRECTION_APPROVE_REFUSED = "correction.approve.refused", _ACCOUNT
    CORRECTION_REFUSE_SUCCEEDED = "correction.refuse.succeeded", _ACCOUNT
    CORRECTION_RETRY_SUCCEEDED = "correction.retry.succeeded", _ACCOUNT
    CORRECTION_RUN_SUCCEEDED = "correction.run.succeeded", _ACCOUNT
    CORRECTION_RUN_FAILED = "correction.run.failed", _ACCOUNT
    CORRECTION_STEP_SUCCEEDED = "correction.step.succeeded", _ACCOUNT
    CORRECTION_STEP_FAILED = "correction.step.failed", _ACCOUNT
    CORRECTION_SETTLE_STEP_BY_HAND_SUCCEEDED = "correction.settle_step_by_hand.succeeded", _ACCOUNT
    CORRECTION_PROVIDER_EVENT_RECORDED = "correction.provider_event.recorded", _ACCOUNT
    NOTIFICATION_ENDPOINT_REGISTER_SUCCEEDED = "notification_endpoint.register.succeeded", _SYSTEM
    NOTIFICATION_ENDPOINT_UPDATE_SUCCEEDED = "notification_endpoint.update.succeeded", _SYSTEM
    NOTIFICATION_ENDPOINT_DISABLE_SUCCEEDED = "notification_endpoint.disable.succeeded", _SYSTEM
    NOTIFICATION_ENDPOINT_DISABLE_AUTOMATICALLY_SUCCEEDED = (
        "notification_endpoint.disable_automatically.succeeded",
        _SYSTEM,
    )
    NOTIFICATION_ENDPOINT_ENABLE_SUCCEEDED = "notification_endpoint.enable.succeeded", _SYSTEM
    NOTIFICATION_ENDPOINT_ROTATE_SECRET_SUCCEEDED = (
        "notification_endpoint.rotate_secret.succeeded",
        _SYSTEM,
    )
    NOTIFICATION_DELIVERY_RESEND_SUCCEEDED = "notification_delivery.resend.succeeded", _SYSTEM
    STAFF_CREATE_SUCCEEDED = "staff.create.succeeded", _SYSTEM, "staff_user"
    STAFF_DEACTIVATE_SUCCEEDED = "staff.deactivate.succeeded", _SYSTEM, "staff_user"
    STAFF_UNLOCK_SUCCEEDED = "staff.unlock.succeeded", _SYSTEM, "staff_user"
    STAFF_CHANGE_ROLE_SUCCEEDED = "staff.change_role.succeeded", _SYSTEM, "staff_user"
    STAFF_RESET_MFA_SUCCEEDED = "staff.reset_mfa.succeeded", _SYSTEM, "staff_user"
    STAFF_RESET_PASSWORD_SUCCEEDED = "staff.reset_password.succeeded", _SYSTEM, "staff_user"
    STAFF_UPDATE_PREFERENCES_SUCCEEDED = "staff.update_preferences.succeeded", _SYSTEM, "staff_user"
    STAFF_LOGIN_SUCCEEDED = "staff.login.succeeded", _SYSTEM, "staff_user"
    STAFF_LOGIN_FAILED = "staff.login.failed", _SYSTEM, "staff_user"
    STAFF_LOGIN_REFUSED = "staff.login.refused", _SYSTEM, "staff_user"
    STAFF_CHECK_PASSWORD_SUCCEEDED = "staff.check_password.succeeded", _SYSTEM, "staff_user"
    STAFF_ENROL_MFA_SUCCEEDED = "staff.enrol_mfa.succeeded", _SYSTEM, "staff_user"
    STAFF_LOCK_OUT_STARTED = "staff.lock_out.started", _SYSTEM, "staff_user"
    STAFF_LOGOUT_SUCCEEDED = "staff.logout.succeeded", _SYSTEM, "staff_user"
