"""The outbox: an event is written in the transaction that makes the change it tells of, so it
exists exactly when the change committed. Once that transaction commits, the dispatch job is
kicked (best effort: the minute sweep catches up on a kick that was lost)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from gateway.core.catalogues import redact_sentence
from gateway.core.db.connection import after_commit, fetch, transaction
from gateway.core.db.rows import as_json
from gateway.core.log import get_logger
from gateway.core.sensitive import redact_text, redact_value
from gateway.i18n import LANGUAGES, Message, said_in
from gateway.notifications import queries
from gateway.notifications.events import HELPDESK_STATUS, EventType

_log = get_logger("notifications")


_SUBJECT_URLS = {
    "change_request": "/v1/change-requests/{}",
    "correction": "/v1/corrections/{}",
    "cheque": "/v1/cheques/{}",
}


def translated_notes(note: object) -> dict[str, str] | None:
    """The note in every language but English (which the body holds), when it is a Message:
    each masked as the body is. None for a note that cannot be said again (plain text)."""
    if not isinstance(note, Message):
        return None
    notes: dict[str, str] = {}
    for language in _NOTE_LANGUAGES:
        text = said_in(note, language)
        # A Message with values comes back masked already (Message.localized): not twice.
        notes[language] = text if note.values else redact_text(text)
    return notes


_NOTE_LANGUAGES = tuple(language for language in LANGUAGES if language != "en")


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
        "note": None,  # written in below
        "status": data.get("status"),
        **{key: value for key, value in data.items() if key not in _FIXED},
    }
    payload = {"type": event_type.value, "timestamp": None, "data": body}
    redacted: dict[str, Any] = redact_value(payload)
    # Written in their places after the walk: the note (a Message's English; its other languages
    # are the notes) masked by redact_sentence, which gives what redact_text gives, faster; the
    # time as it is, since it can hold neither: its digits come in chains of 8 at most, cut by
    # "T" and ":" ("2026-12-06", "01.552331"; a card number has 13), and its two letters are
    # never side by side (an IBAN opens with two).
    redacted["timestamp"] = occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    redacted["data"]["note"] = redact_sentence(str(data.get("note") or ""))
    return redacted


_FIXED = frozenset(
    {"subject", "sequence", "ticket", "ticket_display", "helpdesk_status", "note", "status"}
)


def event_values(
    type: EventType,  # the contract's name
    *,
    subject_type: str,
    subject_id: str,
    client: str | None,
    data: dict[str, Any],
    customer: dict[str, str] | None = None,
) -> list[Any]:
    """The values of queries.INSERT_EVENT ($1..$9; also those of queries.EVENT_CTES, for a
    caller that writes the event within a statement of its own, then calls kick_after_commit)."""
    occurred_at = datetime.now(UTC)
    payload = build_payload(
        type,
        subject_type=subject_type,
        subject_id=subject_id,
        sequence=0,  # numbered by the statement
        occurred_at=occurred_at,
        data=data,
    )
    notes = translated_notes(data.get("note"))
    # The columns beside the payload are masked as it is. The API refuses a card number or an
    # IBAN in a customer reference, but a provider's notice names accounts as the provider
    # holds them: such a reference is stored masked, and so matches no one's requests.
    if subject_type == "customer":  # the others' ids are the gateway's own UUIDs
        subject_id = redact_text(subject_id)
    return [
        uuid.uuid4(),
        type.value,
        subject_type,
        subject_id,
        client,
        as_json(redact_value(customer)) if customer else None,
        as_json(payload),
        occurred_at,
        as_json(notes) if notes else None,
    ]


async def kick_after_commit() -> None:
    """Kick the dispatch job once the transaction that wrote an event commits (at once when
    the event was written by a statement of its own)."""
    await after_commit(_kick_in_the_background)


async def record_event(
    type: EventType,  # the contract's name
    *,
    subject_type: str,
    subject_id: str,
    client: str | None,
    data: dict[str, Any],
    customer: dict[str, str] | None = None,
) -> uuid.UUID:
    """Write the event in the caller's transaction (one of its own when there is none), with
    the next sequence number of its subject, and kick the dispatch job once it commits."""
    values = event_values(
        type,
        subject_type=subject_type,
        subject_id=subject_id,
        client=client,
        data=data,
        customer=customer,
    )
    async with transaction():
        await fetch(queries.INSERT_EVENT, *values)
        await kick_after_commit()
    event_id: uuid.UUID = values[0]
    return event_id


# Kicks of one process at least this far apart: under load each kick is a queue insert and a
# dispatch run for the worker, on the cores the API shares; a lone commit is kicked at once.
KICK_GAP_SECONDS = 0.1


class _Kicker:
    """One kick in flight per process, and one more after it when commits came meanwhile: a
    burst of commits costs two queue round trips, not one each (the dispatch job fans out
    every event waiting, so a kick that starts after a commit covers it). Kicks are spaced
    by KICK_GAP_SECONDS, so a sustained stream of commits costs ten kicks a second."""

    def __init__(self) -> None:
        self._wanted = False
        self._task: asyncio.Task[None] | None = None
        self._last = float("-inf")  # the loop time of the last kick

    def kick(self) -> None:
        self._wanted = True
        task = self._task
        # A task of another event loop (tests start several) never finishes in this one.
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            return  # it kicks once more after its current round trip
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._wanted:
            wait = self._last + KICK_GAP_SECONDS - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._wanted = False  # commits from here on are covered by this kick or the next
            self._last = loop.time()
            await kick_dispatch()

    async def sent(self) -> None:
        task = self._task
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            await task


_KICKER = _Kicker()


async def kicks_sent() -> None:
    """Waits for the kick under way, if any: a short-lived process (the CLI) calls it before
    it ends, so that its events are not left to the minute sweep."""
    await _KICKER.sent()


async def _kick_in_the_background() -> None:
    """The answer to the caller never waits for the kick: with PostgreSQL gone, queueing a job
    takes up to the job queue's 5 s timeout, which would hold back an answer already committed."""
    _KICKER.kick()


async def kick_dispatch() -> None:
    """Ask the worker to fan the new events out now; a queue that cannot be reached is left to
    the minute sweep."""
    from gateway.notifications.jobs import defer_dispatch

    try:
        await defer_dispatch()
    except Exception as error:
        _log.warning("notification dispatch not kicked", error=repr(error))
