"""Notification endpoints and deliveries as the back office shows them: an endpoint's state as a
sentence (disabled and why, failing since when, or delivering), its subscriptions in words, and
the catalogue as the register form's checkboxes. Worked out here so the templates only lay it
out; endpoints and deliveries come from NotificationService as mappings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from gateway.i18n import LANGUAGES, N_, Message, gettext, translate
from gateway.i18n.formatting import format_datetime
from gateway.i18n.labels import label
from gateway.notifications.events import EVENT_TYPES, EventType

Row = Mapping[str, Any]

PATTERNS = {
    "*": N_("Every event"),
    "change_request.*": N_("Every change-request event"),
    "correction.*": N_("Every correction event"),
    "provider.*": N_("Every provider event (payment failed, invoice past due, ...)"),
    "cheque.*": N_("Every cheque event"),
}
FAMILY_NAMES = {
    "change_request": N_("Change requests"),
    "correction": N_("Corrections"),
    "provider": N_("Provider events"),
    "cheque": N_("Cheques"),
}
DELIVERY_STATUS_NAMES = {
    "pending": N_("waiting to be sent"),
    "delivered": N_("delivered"),
    "failed": N_("failed"),
}
TRIGGER_NAMES = {"schedule": N_("scheduled"), "resend": N_("resent by hand")}
SUBJECT_NAMES = {
    "change_request": N_("change request"),
    "correction": N_("correction"),
    "customer": N_("customer"),
    "cheque": N_("cheque"),
}


def _named(names: Mapping[str, str], code: str) -> str:
    english = names.get(code)
    return gettext(english) if english else code


def catalogue() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every event type (its code and its name), grouped by family, in catalogue order."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for event_type in EVENT_TYPES:
        family = event_type.partition(".")[0]
        groups.setdefault(family, []).append((event_type, event_name(event_type)))
    return [(_named(FAMILY_NAMES, family), types) for family, types in groups.items()]


def event_name(event_type: str) -> str:
    """A pattern or an event type as people name it: "Every correction event", "Applied"."""
    if event_type in PATTERNS:
        return gettext(PATTERNS[event_type])
    try:
        return label(EventType(event_type))
    except ValueError:
        return event_type


def language_name(code: str) -> str:
    return LANGUAGES.get(code, code)


def client_name(client: str | None) -> str:
    return client or gettext("every client")


def events_shown(events: Sequence[str]) -> str:
    """Each pattern or type by its name, its code beside it (what the API and the help desk
    configuration use)."""
    if not events:
        return gettext("none")
    return ", ".join(f"{event_name(event)} ({event})" for event in events)


def endpoint_sentence(endpoint: Row) -> str:
    """Where the endpoint stands, as a support agent would say it."""
    if not endpoint.get("enabled"):
        when = format_datetime(endpoint.get("disabled_at"))
        reason = endpoint.get("disabled_reason") or Message("no reason was given")
        if when:
            return translate(
                Message(
                    "Disabled on {when}: {reason}. Nothing is sent to it.", when=when, reason=reason
                )
            )
        return translate(Message("Disabled: {reason}. Nothing is sent to it.", reason=reason))
    failing: datetime | None = endpoint.get("failing_since")
    if failing is not None:
        return translate(
            Message(
                "Failing since {when}: deliveries are retried on the backoff schedule; it is "
                "disabled if it keeps failing.",
                when=format_datetime(failing),
            )
        )
    last = endpoint.get("last_success_at")
    if last is not None:
        return translate(Message("Delivering: last success {when}.", when=format_datetime(last)))
    return gettext("Enabled: nothing delivered yet.")


def disabled_first(endpoints: Sequence[Row]) -> tuple[list[Row], list[Row]]:
    """The disabled endpoints (most recently disabled first), then the others as listed."""
    disabled = [endpoint for endpoint in endpoints if not endpoint.get("enabled")]
    disabled.sort(key=lambda endpoint: str(endpoint.get("disabled_at") or ""), reverse=True)
    return disabled, [endpoint for endpoint in endpoints if endpoint.get("enabled")]


def subject_shown(delivery: Row) -> str:
    """The subject as people name it: its ticket when the body sent names one, else its id."""
    code = str(delivery.get("subject_type") or "")
    subject_type = _named(SUBJECT_NAMES, code) if code else ""
    body = delivery.get("payload")
    data = body.get("data") if isinstance(body, dict) else None
    ticket = data.get("ticket_display") if isinstance(data, dict) else None
    named = ticket or str(delivery.get("subject_id") or "")
    return f"{subject_type} {named}".strip()


def view_helpers() -> dict[str, Any]:
    """What every notification template calls."""
    return {
        "client_name": client_name,
        "events_shown": events_shown,
        "event_name": event_name,
        "language_name": language_name,
        "endpoint_sentence": endpoint_sentence,
        "subject_shown": subject_shown,
        "delivery_status": lambda code: _named(DELIVERY_STATUS_NAMES, code),
        "trigger_name": lambda code: _named(TRIGGER_NAMES, code),
    }
