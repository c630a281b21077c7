"""Sending one endpoint's deliveries, in the order of their events.

The endpoint's earliest pending delivery (by event position) goes first; while it waits for its
next try, nothing later is sent to that endpoint, so a receiver gets a request's events in
order. A 2xx answer delivers it; anything else (a redirect, 4xx, 5xx, no connection, no answer
in time, a host no longer allowed) is a failed try, kept with its duration, status and a short
error, and the next try waits by the retry schedule; the schedule spent, the delivery has
failed and the next one goes. An endpoint failing without a success for
BG_NOTIFICATION_DISABLE_AFTER_HOURS is disabled, with the reason, and audited.

One sender per endpoint at a time: a session advisory lock (gateway/durable.py) besides the
job's own Procrastinate lock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from audit.actions import Action
from audit.entry import SYSTEM
from gateway.core.crypto import Cipher
from gateway.core.db.connection import fetch, transaction
from gateway.core.log import get_logger
from gateway.durable import LockedWork
from gateway.notifications import queries
from gateway.notifications.backoff import retry_delay
from gateway.notifications.records import audit
from gateway.notifications.signing import SECRET_CONTEXT, signed_headers
from gateway.notifications.urls import refusal_of_host
from settings import Settings

MAX_SENDS_PER_RUN = 500  # then the run hands over to a fresh job
ERROR_LENGTH = 200
ENDPOINTS = LockedWork("notification_endpoint", "notification_endpoints")
# Defer the endpoint's deliver job at `at` (None: now).
Later = Callable[[uuid.UUID, datetime | None], Awaitable[None]]
_log = get_logger("gateway.notifications")


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    duration_ms: int
    response_status: int | None = None
    error: str | None = None


def _short(text: str) -> str:
    return text if len(text) <= ERROR_LENGTH else text[: ERROR_LENGTH - 1] + "…"


def outcome_of_status(status: int, duration_ms: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome(True, duration_ms, status)
    if 300 <= status < 400:
        error = (
            f"Answered {status}, a redirect; redirects are not followed (register the final URL)."
        )
    else:
        error = f"Answered {status}."
    return Outcome(False, duration_ms, status, error)


async def send(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], body: bytes, time_limit: float
) -> Outcome:
    """One POST; the answer's body is never read (nor kept)."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        async with client.stream("POST", url, content=body, headers=headers) as response:
            return outcome_of_status(response.status_code, elapsed())
    except httpx.TimeoutException:
        return Outcome(False, elapsed(), error=f"No answer within {time_limit:g} s.")
    except httpx.ConnectError as error:
        return Outcome(False, elapsed(), error=_short(f"Could not connect: {error}"))
    except httpx.HTTPError as error:
        return Outcome(False, elapsed(), error=_short(f"{type(error).__name__}: {error}"))


class Deliverer:
    def __init__(
        self,
        settings: Settings,
        cipher: Cipher,
        later: Later,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._cipher = cipher
        self._later = later
        self._transport = transport

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            follow_redirects=False,
            timeout=self._settings.notification_timeout_seconds,
            trust_env=False,  # no proxy from the environment: only the allowed hosts
            transport=self._transport,
        )

    async def deliver(self, endpoint_id: uuid.UUID) -> str:
        async with ENDPOINTS.advancing(endpoint_id) as held:
            if not held:
                return "delivering elsewhere"
            async with self.client() as client:
                return await self._deliver_in_order(client, endpoint_id)

    async def _deliver_in_order(self, client: httpx.AsyncClient, endpoint_id: uuid.UUID) -> str:
        sent = 0
        while sent < MAX_SENDS_PER_RUN:
            rows = await fetch(queries.SENDING_TO, endpoint_id)
            if not rows or not rows[0]["enabled"]:
                return f"sent {sent}; the endpoint is disabled"
            endpoint = rows[0]
            heads = await fetch(queries.NEXT_DELIVERY, endpoint_id)
            if not heads:
                return f"sent {sent}; nothing pending"
            head = heads[0]
            if not head["due"]:
                await self._later(endpoint_id, head["next_attempt_at"])
                return f"sent {sent}; the next waits until {head['next_attempt_at'].isoformat()}"
            outcome = await self._attempt(client, endpoint, head)
            sent += 1
            retry_at = await self._record(endpoint_id, head, outcome)
            if retry_at is not None:
                await self._later(endpoint_id, retry_at)
                return f"sent {sent}; the next try at {retry_at.isoformat()}"
        await self._later(endpoint_id, None)
        return f"sent {sent}; more pending, handed over"

    async def _attempt(
        self, client: httpx.AsyncClient, endpoint: dict[str, Any], head: dict[str, Any]
    ) -> Outcome:
        refusal = refusal_of_host(endpoint["url"], self._settings.notification_hosts)
        if refusal is not None:
            return Outcome(False, 0, error=_short(f"Not sent: {refusal}"))
        secret = self._cipher.decrypt(endpoint["secret_ciphertext"], context=SECRET_CONTEXT)
        body = head["body"].encode()
        headers = signed_headers(secret, str(head["event_id"]), body, datetime.now(UTC))
        timeout = self._settings.notification_timeout_seconds
        return await send(client, endpoint["url"], headers, body, timeout)

    async def _record(
        self, endpoint_id: uuid.UUID, head: dict[str, Any], outcome: Outcome
    ) -> datetime | None:
        """The attempt, the delivery's new state and the endpoint's; the next try's time when
        the delivery stays pending."""
        trigger = "resend" if head["resend_requested"] else "schedule"
        async with transaction():
            await fetch(
                queries.INSERT_ATTEMPT,
                head["id"],
                outcome.duration_ms,
                outcome.response_status,
                outcome.error,
                trigger,
            )
            if outcome.delivered:
                await fetch(queries.DELIVERED, head["id"], outcome.response_status)
                await fetch(queries.SUCCEEDED, endpoint_id)
                return None
            # A resend is one try; a scheduled delivery waits by the schedule until it is spent.
            delay = (
                None
                if head["resend_requested"]
                else retry_delay(self._settings.notification_retry_schedule, head["attempts"] + 1)
            )
            rows = await fetch(
                queries.NOT_DELIVERED,
                head["id"],
                delay.total_seconds() if delay is not None else None,
                outcome.response_status,
            )
            disabled = await self._note_failure(endpoint_id, outcome)
            # A disabled endpoint queues no retry: enabling it sends what waits.
            return rows[0]["next_attempt_at"] if delay is not None and not disabled else None

    async def _note_failure(self, endpoint_id: uuid.UUID, outcome: Outcome) -> bool:
        """Whether the endpoint is disabled now, failing for too long."""
        hours = self._settings.notification_disable_after_hours
        rows = await fetch(queries.FAILING, endpoint_id, hours * 3600)
        if not rows or not rows[0]["overdue"]:
            return False
        since = rows[0]["failing_since"].astimezone(UTC)
        reason = (
            f"Disabled by the gateway: no delivery succeeded for more than {hours:g} hours "
            f"(failing since {since:%Y-%m-%d %H:%M} UTC; last try: "
            f"{outcome.error or 'failed'}). Fix the receiver, then enable the endpoint: "
            "its pending deliveries are sent then; events while it is disabled are not kept "
            "for it."
        )
        await fetch(queries.DISABLE_ENDPOINT, endpoint_id, reason)
        await audit(
            SYSTEM,
            endpoint_id,
            Action.NOTIFICATION_ENDPOINT_DISABLE_AUTOMATICALLY_SUCCEEDED,
            {"enabled": False, "disabled_reason": reason},
            before={"enabled": True},
            reason="failing_too_long",
        )
        return True
        _log.warning("notification endpoint disabled", endpoint_id=str(endpoint_id))
