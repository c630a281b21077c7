"""The catalogue of outgoing notifications, the help-desk status each maps to, and the patterns
an endpoint subscribes with ("change_request.*", "correction.*", "provider.*", "*")."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from gateway.core.errors import BillingError, ErrorCode
from gateway.i18n import N_, Message
from gateway.i18n.labels import LABELS


class EventType(enum.StrEnum):
    CHANGE_REQUEST_FILED = "change_request.filed"
    CHANGE_REQUEST_ASSIGNED = "change_request.assigned"
    CHANGE_REQUEST_STARTED = "change_request.started"
    CHANGE_REQUEST_WAITING_CUSTOMER = "change_request.waiting_customer"
    CHANGE_REQUEST_RESUMED = "change_request.resumed"
    CHANGE_REQUEST_CHECKS_READY = "change_request.checks_ready"
    CHANGE_REQUEST_AWAITING_APPROVAL = "change_request.awaiting_approval"
    CHANGE_REQUEST_PLAN_REFUSED = "change_request.plan_refused"
    CHANGE_REQUEST_APPLYING = "change_request.applying"
    CHANGE_REQUEST_APPLIED = "change_request.applied"
    CHANGE_REQUEST_APPLY_FAILED = "change_request.apply_failed"
    CHANGE_REQUEST_APPROVED = "change_request.approved"
    CHANGE_REQUEST_REJECTED = "change_request.rejected"
    CHANGE_REQUEST_REOPENED = "change_request.reopened"
    CHANGE_REQUEST_AMENDED = "change_request.amended"
    CHANGE_REQUEST_CANCELLED = "change_request.cancelled"
    CHANGE_REQUEST_BLOCKED_BY_FRAUD_STOP = "change_request.blocked_by_fraud_stop"
    CHANGE_REQUEST_EXPIRED = "change_request.expired"
    CHANGE_REQUEST_CUSTOMER_SILENT = "change_request.customer_silent"
    CHANGE_REQUEST_RETURNED_TO_TRIAGE = "change_request.returned_to_triage"
    CORRECTION_FILED = "correction.filed"
    CORRECTION_AWAITING_APPROVAL = "correction.awaiting_approval"
    CORRECTION_APPROVED = "correction.approved"
    CORRECTION_REFUSED = "correction.refused"
    CORRECTION_SUCCEEDED = "correction.succeeded"
    CORRECTION_FAILED = "correction.failed"
    CORRECTION_RETRIED = "correction.retried"
    CORRECTION_STEP_SETTLED_BY_HAND = "correction.step_settled_by_hand"
    PROVIDER_PAYMENT_FAILED = "provider.payment_failed"
    PROVIDER_INVOICE_PAST_DUE = "provider.invoice_past_due"
    PROVIDER_MANDATE_CANCELLED = "provider.mandate_cancelled"
    PROVIDER_PAYOUT_FAILED = "provider.payout_failed"
    CHEQUE_RECORDED = "cheque.recorded"
    CHEQUE_BOUNCED = "cheque.bounced"


LABELS.update(
    {
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
)


EVENT_TYPES: tuple[str, ...] = tuple(event.value for event in EventType)

NEW, OPEN, PENDING, SOLVED = "new", "open", "pending", "solved"

# What the help desk's ticket should show after the event. A provider event opens a follow-up.
HELPDESK_STATUS: dict[EventType, str] = {
    EventType.CHANGE_REQUEST_FILED: NEW,
    EventType.CHANGE_REQUEST_ASSIGNED: OPEN,
    EventType.CHANGE_REQUEST_STARTED: OPEN,
    EventType.CHANGE_REQUEST_WAITING_CUSTOMER: PENDING,
    EventType.CHANGE_REQUEST_RESUMED: OPEN,
    EventType.CHANGE_REQUEST_CHECKS_READY: OPEN,
    EventType.CHANGE_REQUEST_AWAITING_APPROVAL: OPEN,
    EventType.CHANGE_REQUEST_PLAN_REFUSED: OPEN,
    EventType.CHANGE_REQUEST_APPLYING: OPEN,
    EventType.CHANGE_REQUEST_APPLIED: SOLVED,
    EventType.CHANGE_REQUEST_APPLY_FAILED: OPEN,
    EventType.CHANGE_REQUEST_APPROVED: SOLVED,
    EventType.CHANGE_REQUEST_REJECTED: OPEN,
    EventType.CHANGE_REQUEST_REOPENED: OPEN,
    EventType.CHANGE_REQUEST_AMENDED: OPEN,
    EventType.CHANGE_REQUEST_CANCELLED: SOLVED,
    EventType.CHANGE_REQUEST_BLOCKED_BY_FRAUD_STOP: OPEN,
    EventType.CHANGE_REQUEST_EXPIRED: OPEN,
    EventType.CHANGE_REQUEST_CUSTOMER_SILENT: PENDING,
    EventType.CHANGE_REQUEST_RETURNED_TO_TRIAGE: OPEN,
    EventType.CORRECTION_FILED: NEW,
    EventType.CORRECTION_AWAITING_APPROVAL: OPEN,
    EventType.CORRECTION_APPROVED: OPEN,
    EventType.CORRECTION_REFUSED: SOLVED,
    EventType.CORRECTION_SUCCEEDED: SOLVED,
    EventType.CORRECTION_FAILED: OPEN,
    EventType.CORRECTION_RETRIED: OPEN,
    EventType.CORRECTION_STEP_SETTLED_BY_HAND: OPEN,
    EventType.PROVIDER_PAYMENT_FAILED: NEW,
    EventType.PROVIDER_INVOICE_PAST_DUE: NEW,
    EventType.PROVIDER_MANDATE_CANCELLED: NEW,
    EventType.PROVIDER_PAYOUT_FAILED: NEW,
    # A cheque paid the invoice a "not paid" follow-up is about; a bounce opens it again.
    EventType.CHEQUE_RECORDED: SOLVED,
    EventType.CHEQUE_BOUNCED: NEW,
}

_FAMILIES = frozenset(event.value.partition(".")[0] for event in EventType)


def matches(pattern: str, event_type: str) -> bool:
    """Whether an endpoint subscribed with `pattern` (an exact type, "family.*" or "*") wants
    `event_type`."""
    if pattern in ("*", event_type):
        return True
    family, dot, rest = pattern.partition(".")
    return bool(dot) and rest == "*" and event_type.startswith(family + ".")


def is_known_pattern(pattern: str) -> bool:
    if pattern == "*" or pattern in EVENT_TYPES:
        return True
    family, _, rest = pattern.partition(".")
    return rest == "*" and family in _FAMILIES


def validate_patterns(patterns: Iterable[str]) -> list[str]:
    """The subscription patterns, checked (duplicates dropped, order kept). Unknown types are
    refused with a sentence naming them; an empty list is refused too."""
    chosen = list(dict.fromkeys(pattern.strip() for pattern in patterns))
    unknown = [pattern for pattern in chosen if not is_known_pattern(pattern)]
    if unknown:
        raise BillingError(
            ErrorCode.NOTIFICATION_EVENT_UNKNOWN,
            Message(
                "Unknown event types: {unknown}. Use exact types from the catalogue (for "
                "example change_request.applied) or the patterns change_request.*, "
                "correction.*, provider.*, cheque.* or *.",
                unknown=", ".join(repr(name) for name in unknown),
            ),
            extra={"unknown_events": unknown},
        )
    if not chosen:
        raise BillingError(
            ErrorCode.NOTIFICATION_EVENT_UNKNOWN,
            Message("Choose at least one event type (for example change_request.* or *)."),
        )
    return chosen
