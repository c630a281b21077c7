"""The outbox: an event is written in the transaction that makes the change it tells of, so it
exists exactly when the change committed. Once that transaction commits, the dispatch job is
kicked (best effort: the minute sweep catches up on a kick that was lost)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from gateway.db.connection import after_commit, fetch, fetch_value, transaction
from gateway.log import get_logger
from gateway.notifications.events import HELPDESK_STATUS, EventType
from gateway.sensitive import redact_value

_log = get_logger("notifications")

DISPATCH_TASK = "notifications.dispatch"

_SUBJECT_URLS = {
    "change_request": "/v1/change-requests/{}",
    "correction": "/v1/corrections/{}",
}

_NEXT_SEQUENCE = (
    "SELECT coalesce(max(sequence), 0) + 1 FROM notification_events"
    " WHERE subject_type = $1 AND subject_id = $2"
)
_INSERT = (
    "INSERT INTO notification_events (id, type, subject_type, subject_id, sequence, client,"
    " customer, payload, occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9)"
)


def subject_url(subject_type: str, subject_id: str) -> str | None:
    template = _SUBJECT_URLS.get(subject_type)
    return template.format(subject_id) if template else None


def build_payload(
    event_type: EventType,
    *,
    subject_type: str,
    subject_id: str,
    sequence: int,
    occurred_at: datetime,
    data: dict[str, Any],
) -> dict[str, Any]:
    """The body endpoints receive, verbatim. Every string is masked once more on the way in:
    a full IBAN or card number never reaches the outbox, whatever a builder put in `data`."""
    body = {
        "subject": {
            "type": subject_type,
            "id": subject_id,
            "url": subject_url(subject_type, subject_id),
        },
        "sequence": sequence,
        "ticket": data.get("ticket"),
        "ticket_display": data.get("ticket_display"),
        "helpdesk_status": HELPDESK_STATUS[event_type],
        "note": data.get("note", ""),
        "status": data.get("status"),
        **{key: value for key, value in data.items() if key not in _FIXED},
    }
    payload = {
        "type": event_type.value,
        "timestamp": occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": body,
    }
    redacted: dict[str, Any] = redact_value(payload)
    return redacted


_FIXED = frozenset(
    {"subject", "sequence", "ticket", "ticket_display", "helpdesk_status", "note", "status"}
)


async def record_event(
    type: EventType,  # the contract's name
    *,
    subject_type: str,
    subject_id: str,
    client: str | None,
    data: dict[str, Any],
    customer: dict[str, str] | None = None,
) -> uuid.UUID:
    """Write the event in the caller's transaction (one of its own when there is none): the
    next sequence number of its subject (events of one subject are numbered one at a time,
    under a lock on the subject until the commit), the payload, and a kick of the dispatch
    job once the transaction commits."""
    event_id = uuid.uuid4()
    occurred_at = datetime.now(UTC)
    async with transaction():
        await fetch(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            f"notification-subject:{subject_type}:{subject_id}",
        )
        sequence = int(await fetch_value(_NEXT_SEQUENCE, subject_type, subject_id))
        payload = build_payload(
            type,
            subject_type=subject_type,
            subject_id=subject_id,
            sequence=sequence,
            occurred_at=occurred_at,
            data=data,
        )
        await fetch(
            _INSERT,
            event_id,
            type.value,
            subject_type,
            subject_id,
            sequence,
            client,
            _json(customer) if customer else None,
            _json(payload),
            occurred_at,
        )
        await after_commit(_kick_in_the_background)
    return event_id


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


# Kicks under way, held so that the event loop does not drop them half-run.
_KICKS: set[asyncio.Task[None]] = set()


async def _kick_in_the_background() -> None:
    """The answer to the caller never waits for the kick: with PostgreSQL gone, queueing a job
    takes up to the job queue's 5 s timeout, which would hold back an answer already committed."""
    task = asyncio.create_task(kick_dispatch())
    _KICKS.add(task)
    task.add_done_callback(_KICKS.discard)


async def kick_dispatch() -> None:
    """Ask the worker to fan the new events out now. One waiting dispatch job is enough (the
    queueing lock); a queue that cannot be reached is left to the minute sweep."""
    from procrastinate.exceptions import AlreadyEnqueued

    from gateway.jobs import job_app

    try:
        await job_app.configure_task(DISPATCH_TASK, queueing_lock=DISPATCH_TASK).defer_async()
    except AlreadyEnqueued:
        pass
    except Exception as error:
        _log.warning("notification dispatch not kicked", error=repr(error))
