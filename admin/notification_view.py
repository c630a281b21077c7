"""Notification endpoints and deliveries as the back office shows them: an endpoint's state as a
sentence (disabled and why, failing since when, or delivering), its subscriptions in words, and
the catalogue as the register form's checkboxes. Worked out here so the templates only lay it
out; endpoints and deliveries come from NotificationService as mappings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from admin.work_view import shown_time
from gateway.notifications.events import EVENT_TYPES

Row = Mapping[str, Any]

PATTERNS = {
    "*": "Every event",
    "change_request.*": "Every change-request event",
    "correction.*": "Every correction event",
    "provider.*": "Every provider event (payment failed, invoice past due, ...)",
}
FAMILY_NAMES = {
    "change_request": "Change requests",
    "correction": "Corrections",
    "provider": "Provider events",
}
DELIVERY_STATUS_NAMES = {
    "pending": "waiting to be sent",
    "delivered": "delivered",
    "failed": "failed",
}
TRIGGER_NAMES = {"schedule": "scheduled", "resend": "resent by hand"}


def catalogue() -> list[tuple[str, list[str]]]:
    """Every event type, grouped by family, in catalogue order."""
    groups: dict[str, list[str]] = {}
    for event_type in EVENT_TYPES:
        groups.setdefault(event_type.partition(".")[0], []).append(event_type)
    return [(FAMILY_NAMES.get(family, family), types) for family, types in groups.items()]


def client_name(client: str | None) -> str:
    return client or "every client"


def events_shown(events: Sequence[str]) -> str:
    return ", ".join(events) if events else "none"


def endpoint_sentence(endpoint: Row) -> str:
    """Where the endpoint stands, as a support agent would say it."""
    if not endpoint.get("enabled"):
        when = shown_time(endpoint.get("disabled_at"))
        reason = endpoint.get("disabled_reason") or "no reason was given"
        return f"Disabled{' on ' + when if when else ''}: {reason}. Nothing is sent to it."
    failing: datetime | None = endpoint.get("failing_since")
    if failing is not None:
        return (
            f"Failing since {shown_time(failing)}: deliveries are retried on the backoff "
            "schedule; it is disabled if it keeps failing."
        )
    last = endpoint.get("last_success_at")
    if last is not None:
        return f"Delivering: last success {shown_time(last)}."
    return "Enabled: nothing delivered yet."


def disabled_first(endpoints: Sequence[Row]) -> tuple[list[Row], list[Row]]:
    """The disabled endpoints (most recently disabled first), then the others as listed."""
    disabled = [endpoint for endpoint in endpoints if not endpoint.get("enabled")]
    disabled.sort(key=lambda endpoint: str(endpoint.get("disabled_at") or ""), reverse=True)
    return disabled, [endpoint for endpoint in endpoints if endpoint.get("enabled")]


def subject_shown(delivery: Row) -> str:
    """The subject as people name it: its ticket when the body sent names one, else its id."""
    subject_type = str(delivery.get("subject_type") or "").replace("_", " ")
    body = delivery.get("payload")
    data = body.get("data") if isinstance(body, dict) else None
    ticket = data.get("ticket_display") if isinstance(data, dict) else None
    named = ticket or str(delivery.get("subject_id") or "")
    return f"{subject_type} {named}".strip()


def view_helpers() -> dict[str, Any]:
    """What every notification template calls."""
    return {
        "shown_time": shown_time,
        "client_name": client_name,
        "events_shown": events_shown,
        "endpoint_sentence": endpoint_sentence,
        "subject_shown": subject_shown,
        "delivery_status_names": DELIVERY_STATUS_NAMES,
        "trigger_names": TRIGGER_NAMES,
    }
