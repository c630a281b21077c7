"""Notification endpoints and their deliveries: register, change, disable, enable, rotate the
secret, read, resend; what the API (controller.py) and the back office call. Every change is
audited in its transaction. The secret (`whsec_...`) is stored only encrypted and returned
once, by `register` and `rotate_secret`; every other answer is masked.

Endpoints and deliveries are plain dicts (keys: see records.py's columns) with a `cursor` each:
pass an item's `cursor` as `before` for the page after it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from audit import Actor
from audit.actions import Action
from gateway.core.crypto import Cipher
from gateway.core.db.connection import fetch, transaction
from gateway.core.db.rows import loaded
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.log import get_logger
from gateway.core.sensitive import refuse_card_or_iban
from gateway.i18n import LANGUAGES, N_, Message
from gateway.notifications import queries
from gateway.notifications.delivery import Deliverer, Later
from gateway.notifications.events import validate_patterns
from gateway.notifications.fanout import fan_out_all
from gateway.notifications.records import (
    ALL,
    ClientView,
    audit,
    delivery_of,
    delivery_row,
    endpoint_of,
    endpoint_row,
)
from gateway.notifications.signing import SECRET_CONTEXT, new_secret
from gateway.notifications.urls import check_endpoint_url
from settings import Settings

__all__ = ["ALL", "NotificationService"]
MAX_DESCRIPTION = 500
MAX_REASON = 500
_log = get_logger("gateway.notifications")


def _actor_json(actor: Actor) -> str:
    return msgspec.json.encode({"kind": actor.kind, "id": actor.id, "name": actor.role}).decode()


def refuse_bank_or_card_details(label: str, text: str) -> None:
    """Free text is stored and shown as given: no IBAN or card number, in any spelling.
    `label`: an N_-marked noun ("description", "reason")."""
    refuse_card_or_iban(
        text,
        card=Message(
            "The {label} holds a card number, which the gateway never stores. Leave it out.",
            label=Message(label),
        ),
        iban=Message(
            "The {label} holds an IBAN. Leave it out: it is stored and shown as written.",
            label=Message(label),
        ),
    )


def checked_language(language: str) -> str:
    """One of gateway.i18n.LANGUAGES, or a 422 naming them."""
    if language not in LANGUAGES:
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            Message(
                "The language {language} is not one the notes are written in: use {known}.",
                language=repr(language),
                known=", ".join(LANGUAGES),
            ),
        )
    return language


def _description(text: str | None) -> str:
    text = (text or "").strip()
    refuse_bank_or_card_details(N_("description"), text)
    if len(text) > MAX_DESCRIPTION or any(ord(c) < 32 and c not in "\t" for c in text):
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            Message(
                "The description is at most {most} characters, on one line.", most=MAX_DESCRIPTION
            ),
        )
    return text


class NotificationService:
    def __init__(
        self,
        settings: Settings,
        cipher: Cipher,
        *,
        later: Later | None = None,
        deliverer: Deliverer | None = None,
    ) -> None:
        self._settings = settings
        self._cipher = cipher
        self._later = later
        self.deliverer = deliverer or Deliverer(settings, cipher, self._defer_deliver)

    # -- endpoints -----------------------------------------------------------------------------

    async def register(
        self,
        url: str,
        events: list[str],
        description: str | None,
        client: str | None,
        actor: Actor,
        *,
        language: str = "en",
    ) -> tuple[dict[str, Any], str]:
        """The endpoint and its secret; the secret is never shown again (rotate for a new one).
        `client` None: the endpoint gets every client's events. `language`: of the notes."""
        url = check_endpoint_url(url, self._settings.notification_hosts)
        patterns = validate_patterns(events)
        text = _description(description)
        language = checked_language(language)
        secret = new_secret()
        endpoint_id = uuid.uuid4()
        await self._refuse_second(url, client)
        try:
            return await self._insert(
                endpoint_id, url, patterns, text, client, secret, actor, language
            )
        except asyncpg.UniqueViolationError:  # registered at the same moment
            await self._refuse_second(url, client)
            raise

    async def _insert(
        self,
        endpoint_id: uuid.UUID,
        url: str,
        patterns: list[str],
        text: str,
        client: str | None,
        secret: str,
        actor: Actor,
        language: str,
    ) -> tuple[dict[str, Any], str]:
        async with transaction():
            rows = await fetch(
                queries.INSERT_ENDPOINT,
                endpoint_id,
                url,
                text,
                patterns,
                client,
                self._cipher.encrypt(secret, context=SECRET_CONTEXT),
                _actor_json(actor),
                language,
            )
            await audit(
                actor,
                endpoint_id,
                Action.NOTIFICATION_ENDPOINT_REGISTER_SUCCEEDED,
                {
                    "url": url,
                    "events": patterns,
                    "client": client,
                    "description": text,
                    "language": language,
                },
            )
        return endpoint_of(rows[0]), secret

    async def _refuse_second(self, url: str, client: str | None) -> None:
        rows = await fetch(queries.SAME_ENDPOINT, client, url)
        if rows:
            raise BillingError(
                ErrorCode.NOTIFICATION_ENDPOINT_EXISTS,
                Message(
                    "An endpoint with this URL is registered already (existing_id); change it, "
                    "or rotate its secret if the first answer was lost."
                ),
                extra={"existing_id": str(rows[0]["id"])},
            )

    async def list_endpoints(
        self, client: ClientView = ALL, *, limit: int = 50, before: str | None = None
    ) -> list[dict[str, Any]]:
        """Newest first. `client`: ALL (every endpoint), a client's, or None (the endpoints
        of every client)."""
        filters = {} if client is ALL else {"client IS NOT DISTINCT FROM ?": client}
        rows = await queries.page(queries.ENDPOINTS, filters, limit, before)
        return [endpoint_of(row) for row in rows]

    async def get_endpoint(
        self, endpoint_id: uuid.UUID, client: ClientView = ALL
    ) -> dict[str, Any]:
        return endpoint_of(await endpoint_row(endpoint_id, client))

    async def update(
        self,
        endpoint_id: uuid.UUID,
        *,
        actor: Actor,
        url: str | None = None,
        events: list[str] | None = None,
        description: str | None = None,
        language: str | None = None,
        client: ClientView = ALL,
    ) -> dict[str, Any]:
        """Changes what is given (None: unchanged)."""
        changes: dict[str, Any] = {}
        if url is not None:
            changes["url"] = check_endpoint_url(url, self._settings.notification_hosts)
        if events is not None:
            changes["events"] = validate_patterns(events)
        if description is not None:
            changes["description"] = _description(description)
        if language is not None:
            changes["language"] = checked_language(language)
        try:
            return await self._update(endpoint_id, changes, actor, client)
        except asyncpg.UniqueViolationError:
            await self._refuse_second(changes["url"], (await endpoint_row(endpoint_id))["client"])
            raise

    async def _update(
        self, endpoint_id: uuid.UUID, changes: dict[str, Any], actor: Actor, client: ClientView
    ) -> dict[str, Any]:
        async with transaction():
            before = await endpoint_row(endpoint_id, client, lock=True)
            if not changes:
                return endpoint_of(before)
            (row,) = await fetch(
                queries.UPDATE_ENDPOINT,
                endpoint_id,
                *(changes.get(key) for key in ("url", "events", "description", "language")),
            )
            await audit(
                actor,
                endpoint_id,
                Action.NOTIFICATION_ENDPOINT_UPDATE_SUCCEEDED,
                changes,
                before={key: _plain(before[key]) for key in changes},
            )
        return endpoint_of(row)

    async def disable(
        self, endpoint_id: uuid.UUID, reason: str, actor: Actor, client: ClientView = ALL
    ) -> dict[str, Any]:
        """No more deliveries (pending ones wait); new events are not queued for it."""
        reason = reason.strip()
        refuse_bank_or_card_details(N_("reason"), reason)
        if not reason or len(reason) > MAX_REASON:
            raise BillingError(
                ErrorCode.REASON_REQUIRED,
                Message(
                    "Say why the endpoint is disabled (at most {most} characters); admins "
                    "read it on the endpoint.",
                    most=MAX_REASON,
                ),
            )
        async with transaction():
            before = await endpoint_row(endpoint_id, client, lock=True)
            (row,) = await fetch(queries.DISABLE_ENDPOINT, endpoint_id, reason)
            await audit(
                actor,
                endpoint_id,
                Action.NOTIFICATION_ENDPOINT_DISABLE_SUCCEEDED,
                {"enabled": False, "disabled_reason": reason},
                before={"enabled": before["enabled"]},
                reason=reason,
            )
        return endpoint_of(row)

    async def enable(
        self, endpoint_id: uuid.UUID, actor: Actor, client: ClientView = ALL
    ) -> dict[str, Any]:
        """Deliveries go on: the pending ones are due at once, in order."""
        async with transaction():
            before = await endpoint_row(endpoint_id, client, lock=True)
            (row,) = await fetch(queries.ENABLE_ENDPOINT, endpoint_id)
            await fetch(queries.DUE_NOW, endpoint_id)
            await audit(
                actor,
                endpoint_id,
                Action.NOTIFICATION_ENDPOINT_ENABLE_SUCCEEDED,
                {"enabled": True},
                before={"enabled": before["enabled"], "disabled_reason": before["disabled_reason"]},
            )
        await self.kick(endpoint_id)
        return endpoint_of(row)

    async def rotate_secret(
        self, endpoint_id: uuid.UUID, actor: Actor, client: ClientView = ALL
    ) -> str:
        """A new secret, returned once; every request from now on is signed with it."""
        secret = new_secret()
        async with transaction():
            await endpoint_row(endpoint_id, client, lock=True)
            encrypted = self._cipher.encrypt(secret, context=SECRET_CONTEXT)
            await fetch(queries.NEW_SECRET, endpoint_id, encrypted)
            await audit(
                actor, endpoint_id, Action.NOTIFICATION_ENDPOINT_ROTATE_SECRET_SUCCEEDED, {}
            )
        return secret

    # -- deliveries ----------------------------------------------------------------------------

    async def list_deliveries(
        self,
        endpoint_id: uuid.UUID | None = None,
        event_id: uuid.UUID | None = None,
        status: str | None = None,
        limit: int = 50,
        before: str | None = None,
        client: ClientView = ALL,
    ) -> list[dict[str, Any]]:
        """Newest first; `before`: an item's `cursor`."""
        given: dict[str, Any] = {
            "d.endpoint_id = ?": endpoint_id,
            "d.event_id = ?": event_id,
            "d.status = ?": status,
        }
        filters = {clause: value for clause, value in given.items() if value is not None}
        if client is not ALL:
            filters["p.client IS NOT DISTINCT FROM ?"] = client
        rows = await queries.page(queries.DELIVERY_SELECT, filters, limit, before, "d.")
        return [delivery_of(row) for row in rows]

    async def get_delivery(
        self, delivery_id: uuid.UUID, client: ClientView = ALL
    ) -> dict[str, Any]:
        """The delivery with `attempt_history` (oldest first) and the `payload` it sends."""
        delivery = delivery_of(await delivery_row(delivery_id, client))
        delivery["attempt_history"] = await fetch(queries.ATTEMPTS, delivery_id)
        rows = await fetch(queries.PAYLOAD, delivery["event_id"], delivery["endpoint_id"])
        delivery["payload"] = loaded(rows[0]["payload"]) if rows else None
        return delivery

    async def resend(
        self, delivery_id: uuid.UUID, actor: Actor, client: ClientView = ALL
    ) -> dict[str, Any]:
        """A fresh try of a delivered or failed delivery, now: the same `webhook-id` and body,
        a new timestamp and signature. One try (not the retry schedule)."""
        async with transaction():
            row = await delivery_row(delivery_id, client)
            if not await fetch(queries.RESEND, delivery_id):
                raise BillingError(
                    ErrorCode.NOTIFICATION_DELIVERY_PENDING,
                    Message(
                        "This delivery is still waiting to be sent (see next_attempt_at); resend "
                        "one that was delivered or has failed."
                    ),
                    extra={"current_status": row["status"]},
                )
            await audit(
                actor,
                delivery_id,
                Action.NOTIFICATION_DELIVERY_RESEND_SUCCEEDED,
                {"status": "pending", "event_id": str(row["event_id"])},
                before={"status": row["status"]},
            )
        await self.kick(row["endpoint_id"])
        return await self.get_delivery(delivery_id)

    # -- the worker's part ---------------------------------------------------------------------

    async def dispatch(self) -> set[uuid.UUID]:
        """Fan out every waiting event and kick the endpoints that got deliveries."""
        touched = await fan_out_all()
        for endpoint_id in touched:
            await self.kick(endpoint_id)
        return touched

    async def deliver(self, endpoint_id: uuid.UUID) -> str:
        return await self.deliverer.deliver(endpoint_id)

    async def kick(self, endpoint_id: uuid.UUID) -> None:
        await self._defer_deliver(endpoint_id, None)

    async def _defer_deliver(self, endpoint_id: uuid.UUID, at: datetime | None) -> None:
        """Defer the endpoint's deliver job; if that fails (the queue is down), the minute
        sweep finds the endpoint."""
        try:
            if self._later is not None:
                await self._later(endpoint_id, at)
            else:
                from gateway.notifications.jobs import defer_delivery

                await defer_delivery(endpoint_id, at)
        except Exception as error:  # the sweep is the fallback
            _log.warning("delivery not deferred", endpoint_id=str(endpoint_id), error=str(error))


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value
