"""How each code a staff member meets is named, in one place: kinds, statuses, roles, scopes,
steps, notification events. Screens, selects, filters and sentences show `label(member)`,
never the raw value; `tests/unit/test_labels.py` fails when a member has no label."""

from __future__ import annotations

import enum

from gateway.api_keys.scopes import Scope
from gateway.change_requests.lifecycle import TriageKind
from gateway.change_requests.states import Kind, Status, Transition
from gateway.core.catalogues import N_, gettext
from gateway.notifications.events import EventType
from gateway.staff.roles import Role

LABELS: dict[enum.Enum, str] = {
    Kind.IBAN_CHANGE: N_("Bank details (IBAN) change"),
    Kind.PLAN_CHANGE: N_("Plan change (upsell)"),
    Status.NEW: N_("New"),
    Status.ASSIGNED: N_("Assigned"),
    Status.IN_PROGRESS: N_("In progress"),
    Status.WAITING_CUSTOMER: N_("Waiting on the customer"),
    Status.AWAITING_APPROVAL: N_("Plan awaiting approval"),
    Status.APPLYING: N_("Applying at the providers"),
    Status.APPLIED: N_("Applied"),
    Status.APPLY_FAILED: N_("Apply failed"),
    Status.PROCESSED: N_("Processed by hand"),
    Status.APPROVED: N_("Approved"),
    Status.REJECTED: N_("Sent back"),
    Status.CANCELLED: N_("Cancelled"),
    Transition.ASSIGN: N_("Assign"),
    Transition.START: N_("Start work"),
    Transition.WAIT_FOR_CUSTOMER: N_("Wait for the customer"),
    Transition.RESUME: N_("Resume work"),
    Transition.APPLY: N_("Apply at the providers"),
    Transition.REQUEST_APPROVAL: N_("Ask a team lead to approve the plan"),
    Transition.APPROVE_PLAN: N_("Approve the plan"),
    Transition.REFUSE_PLAN: N_("Refuse the plan"),
    Transition.APPLY_SUCCEEDED: N_("Applied"),
    Transition.APPLY_FAILED: N_("Apply failed"),
    Transition.RETRY_APPLY: N_("Retry the failed step"),
    Transition.SETTLE_BY_HAND: N_("Settled by hand"),
    Transition.APPROVE: N_("Approve"),
    Transition.REJECT: N_("Send back"),
    Transition.REWORK: N_("Take up again"),
    Transition.CANCEL: N_("Cancel"),
    Transition.AMEND: N_("Amend the resolution"),
    TriageKind.EXPIRED: N_("Expired"),
    TriageKind.CUSTOMER_SILENT: N_("Customer did not answer"),
    TriageKind.STAFF_DEACTIVATED: N_("Specialist deactivated"),
    Role.SPECIALIST: N_("Billing specialist"),
    Role.TEAM_LEAD: N_("Team lead"),
    Role.ADMIN: N_("Administrator"),
    Role.OPERATIONS: N_("Operations (mailed cheques)"),
    Scope.CHANGE_REQUESTS_READ: N_("Read change requests"),
    Scope.CHANGE_REQUESTS_WRITE: N_("File and update change requests"),
    Scope.CHANGE_REQUESTS_APPLY: N_("Apply change requests at the providers"),
    Scope.CHANGE_REQUESTS_ALL_CLIENTS: N_("Every client's change requests"),
    Scope.FRAUD_SCREEN: N_("Screen against fraud-stop"),
    Scope.FRAUD_READ: N_("Read the blocklist"),
    Scope.FRAUD_WRITE: N_("Block and unblock"),
    Scope.BILLING_READ: N_("Read billing"),
    Scope.BILLING_WRITE: N_("Refund and correct billing"),
    Scope.NOTIFICATIONS_MANAGE: N_("Manage notification endpoints"),
    Scope.PAYMENTS_OFFLINE: N_("Record mailed cheques"),
    EventType.CHANGE_REQUEST_FILED: N_("Request filed"),
    EventType.CHANGE_REQUEST_ASSIGNED: N_("Request assigned"),
    EventType.CHANGE_REQUEST_STARTED: N_("Work started"),
    EventType.CHANGE_REQUEST_WAITING_CUSTOMER: N_("Waiting on the customer"),
    EventType.CHANGE_REQUEST_RESUMED: N_("Work resumed"),
    EventType.CHANGE_REQUEST_CHECKS_READY: N_("Checks ready"),
    EventType.CHANGE_REQUEST_AWAITING_APPROVAL: N_("Plan awaiting approval"),
    EventType.CHANGE_REQUEST_PLAN_REFUSED: N_("Plan refused"),
    EventType.CHANGE_REQUEST_APPLYING: N_("Applying at the providers"),
    EventType.CHANGE_REQUEST_APPLIED: N_("Applied"),
    EventType.CHANGE_REQUEST_APPLY_FAILED: N_("Apply failed"),
    EventType.CHANGE_REQUEST_APPROVED: N_("Approved"),
    EventType.CHANGE_REQUEST_REJECTED: N_("Sent back"),
    EventType.CHANGE_REQUEST_REOPENED: N_("Reopened"),
    EventType.CHANGE_REQUEST_AMENDED: N_("Resolution amended"),
    EventType.CHANGE_REQUEST_CANCELLED: N_("Cancelled"),
    EventType.CHANGE_REQUEST_BLOCKED_BY_FRAUD_STOP: N_("Blocked by fraud-stop"),
    EventType.CHANGE_REQUEST_EXPIRED: N_("Expired"),
    EventType.CHANGE_REQUEST_CUSTOMER_SILENT: N_("Customer did not answer"),
    EventType.CHANGE_REQUEST_RETURNED_TO_TRIAGE: N_("Returned to Triage"),
    EventType.CORRECTION_FILED: N_("Correction filed"),
    EventType.CORRECTION_AWAITING_APPROVAL: N_("Correction awaiting approval"),
    EventType.CORRECTION_APPROVED: N_("Correction approved"),
    EventType.CORRECTION_REFUSED: N_("Correction refused"),
    EventType.CORRECTION_SUCCEEDED: N_("Correction carried out"),
    EventType.CORRECTION_FAILED: N_("Correction failed"),
    EventType.CORRECTION_RETRIED: N_("Correction retried"),
    EventType.CORRECTION_STEP_SETTLED_BY_HAND: N_("Correction step settled by hand"),
    EventType.PROVIDER_PAYMENT_FAILED: N_("Payment failed"),
    EventType.PROVIDER_INVOICE_PAST_DUE: N_("Invoice past due"),
    EventType.PROVIDER_MANDATE_CANCELLED: N_("Direct debit mandate cancelled"),
    EventType.PROVIDER_PAYOUT_FAILED: N_("Payout failed"),
    EventType.CHEQUE_RECORDED: N_("Cheque recorded"),
    EventType.CHEQUE_BOUNCED: N_("Cheque bounced"),
}


def label(member: enum.Enum) -> str:
    """The member's name for people, in the current language (its value if it has none)."""
    english = LABELS.get(member)
    return gettext(english) if english else str(member.value)
