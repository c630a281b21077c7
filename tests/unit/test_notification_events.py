"""The catalogue of outgoing notifications: every type maps to a help-desk status, endpoint
patterns match as a support tool expects, unknown names are refused by name, and the body is
masked whatever a builder put in it."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from gateway.change_requests.notification_events import TRANSITION_EVENTS
from gateway.change_requests.states import Transition
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import contains_card_number, contains_iban, strings_in
from gateway.notifications.events import (
    EVENT_TYPES,
    HELPDESK_STATUS,
    EventType,
    matches,
    validate_patterns,
)
from gateway.notifications.outbox import build_payload
from gateway.webhooks.provider_notices import stripe_notice


def test_every_event_type_has_a_help_desk_status() -> None:
    assert set(HELPDESK_STATUS) == set(EventType)
    assert set(HELPDESK_STATUS.values()) == {"new", "open", "pending", "solved"}
    assert len(EVENT_TYPES) == len(set(EVENT_TYPES)) == 34
    assert HELPDESK_STATUS[EventType.CHANGE_REQUEST_WAITING_CUSTOMER] == "pending"
    assert HELPDESK_STATUS[EventType.PROVIDER_PAYMENT_FAILED] == "new"  # a new follow-up
    # A cheque paid the invoice a "not paid" follow-up is about; its bounce opens a new one.
    assert HELPDESK_STATUS[EventType.CHEQUE_RECORDED] == "solved"
    assert HELPDESK_STATUS[EventType.CHEQUE_BOUNCED] == "new"


def test_every_move_of_a_request_is_told() -> None:
    assert set(TRANSITION_EVENTS) == set(Transition)


@pytest.mark.parametrize(
    ("pattern", "event_type", "expected"),
    [
        ("*", "provider.payout_failed", True),
        ("change_request.applied", "change_request.applied", True),
        ("change_request.applied", "change_request.apply_failed", False),
        ("change_request.*", "change_request.filed", True),
        ("change_request.*", "correction.filed", False),
        ("correction.*", "correction.step_settled_by_hand", True),
        ("provider.*", "provider.invoice_past_due", True),
        ("provider.*", "providers.x", False),
        ("change_request*", "change_request.filed", False),
        ("change_request.app*", "change_request.applied", False),
    ],
)
def test_patterns_match_exact_types_families_and_everything(
    pattern: str, event_type: str, expected: bool
) -> None:
    assert matches(pattern, event_type) is expected


def test_known_patterns_are_kept_once_in_order() -> None:
    chosen = [" change_request.* ", "provider.payment_failed", "*", "change_request.*"]
    assert validate_patterns(chosen) == ["change_request.*", "provider.payment_failed", "*"]


def test_unknown_patterns_are_refused_by_name() -> None:
    with pytest.raises(BillingError) as refused:
        validate_patterns(["change_request.*", "change_request.done", "refund.*", "c*"])
    assert refused.value.code is ErrorCode.NOTIFICATION_EVENT_UNKNOWN
    assert "'change_request.done'" in refused.value.detail
    assert "'refund.*'" in refused.value.detail and "'c*'" in refused.value.detail
    assert refused.value.extra["unknown_events"] == ["change_request.done", "refund.*", "c*"]
    with pytest.raises(BillingError):
        validate_patterns([])


def test_the_body_carries_the_contract_and_never_a_full_iban_or_card_number() -> None:
    body = build_payload(
        EventType.CHANGE_REQUEST_APPLIED,
        subject_type="change_request",
        subject_id="6f1c0b8e-0000-4000-8000-000000000001",
        sequence=5,
        occurred_at=datetime(2026, 12, 5, 10, 0, tzinfo=UTC),
        data={
            "ticket": "zendesk:1001",
            "ticket_display": "zendesk #1001",
            "status": "applied",
            "note": "Changed to FR76 3000 6000 0112 3456 7890 189; card 4539 5787 6362 1486.",
            "sequence": 99,  # the outbox's number wins
        },
    )
    assert body["type"] == "change_request.applied"
    assert body["timestamp"] == "2026-12-05T10:00:00Z"
    data = body["data"]
    assert data["subject"]["url"] == "/v1/change-requests/6f1c0b8e-0000-4000-8000-000000000001"
    assert (data["sequence"], data["helpdesk_status"], data["status"]) == (5, "solved", "applied")
    assert data["ticket_display"] == "zendesk #1001"
    assert "FR****0189" in data["note"] and "[card ****1486]" in data["note"]
    assert not any(contains_iban(text) or contains_card_number(text) for text in strings_in(body))


def test_stripe_events_a_help_desk_acts_on() -> None:
    failed = stripe_notice(
        {"type": "payment_intent.payment_failed"},
        {
            "id": "pi_1",
            "object": "payment_intent",
            "amount": 1250,
            "currency": "eur",
            "status": "requires_payment_method",
            "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds"},
        },
        "cus_1",
    )
    assert failed is not None and failed.event is EventType.PROVIDER_PAYMENT_FAILED
    assert failed.failure_code == "insufficient_funds" and failed.amount is not None
    assert failed.amount["display"] == "12.50 EUR"
    mandate = {"id": "mandate_1", "object": "mandate", "status": "inactive"}
    cancelled = stripe_notice({"type": "mandate.updated"}, mandate, "cus_1")
    assert cancelled is not None and cancelled.event is EventType.PROVIDER_MANDATE_CANCELLED
    active = stripe_notice({"type": "mandate.updated"}, {**mandate, "status": "active"}, "cus_1")
    assert active is None
    past_due = stripe_notice(
        {
            "type": "customer.subscription.updated",
            "data": {"previous_attributes": {"status": "active"}},
        },
        {"id": "sub_1", "object": "subscription", "status": "past_due"},
        "cus_1",
    )
    assert past_due is not None and past_due.event is EventType.PROVIDER_INVOICE_PAST_DUE
    payout = stripe_notice(
        {"type": "payout.failed", "account": "acct_1"},
        {"id": "po_1", "object": "payout", "amount": 100, "currency": "eur"},
        None,
    )
    assert payout is not None and payout.reference == "stripe_connect_account_id"
    assert stripe_notice({"type": "setup_intent.succeeded"}, {"id": "seti_1"}, "cus_1") is None


def test_a_worker_knows_every_family_that_files_work_for_a_customer() -> None:
    """A provider's news goes to the support tools that filed a request or correction for the
    customer: a worker process learns who they are from the modules it imports with its jobs."""
    probe = (
        "from gateway.core.jobs import job_app; job_app.perform_import_paths(); "
        "from gateway.notifications import fanout; "
        "print(*sorted(filed_by.__module__ for filed_by in fanout._FILED_BY))"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.split() == [
        "gateway.change_requests.notification_events",
        "gateway.corrections.notification_events",
    ]
