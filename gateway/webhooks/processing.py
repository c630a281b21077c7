"""Process one inbox event, once: work out which change request it concerns, take the object's
state from the event (or, when an older event arrives after a newer one, from Stripe itself, so
that a stale event never undoes newer news), record it on the request and in the audit trail.

Events that concern a change request carry its id in the Stripe object's metadata
(`change_request_id`), which the gateway sets when it makes the object. Zuora's callouts are
processed by zuora_processing.py (every callout re-reads its object from Zuora).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from adapters.stripe.events import CONCERNING
from gateway.change_requests import queries as change_request_queries
from gateway.change_requests.provider_events import record_provider_event
from gateway.core.db.connection import fetch, fetch_value, transaction
from gateway.core.log import get_logger
from gateway.corrections.stripe_news import record_stripe_news
from gateway.webhooks import queries
from gateway.webhooks.provider_notices import record_provider_notice, stripe_notice
from gateway.webhooks.zuora_processing import ZuoraReader, process_zuora_event

_log = get_logger("gateway.webhooks")

PROCESSED_PROVIDERS = ("stripe", "zuora")  # the providers whose events process_event acts on


class ObjectReader:
    """Reads an object's current state from the provider (the Stripe adapter does)."""

    async def current_object(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        raise NotImplementedError


async def process_event(
    row_id: UUID, reader: ObjectReader | None, zuora: ZuoraReader | None = None
) -> str | None:
    """The outcome, or None when another worker has it or it was processed already. `reader`
    reads from Stripe, `zuora` from Zuora (default: the configured adapter)."""
    if await fetch_value(queries.PROVIDER, row_id) == "zuora":
        if zuora is None:
            from gateway.webhooks.readers import zuora_reader

            zuora = zuora_reader()
        return await process_zuora_event(row_id, zuora)
    async with transaction():
        rows = await fetch(queries.LOCK_STRIPE, row_id)
        if not rows:
            return None
        row = rows[0]
        event = json.loads(row["payload"])
        data_object = (event.get("data") or {}).get("object") or {}
        stale = bool(await fetch(queries.NEWER_SEEN, row["object_id"], row["event_created"]))
        if stale and reader is not None and row["object_id"]:
            current = await reader.current_object(str(data_object.get("object")), row["object_id"])
            data_object = current or data_object
        request_id = await _change_request_of(data_object, reader) or await _open_request_of(
            event.get("account")
        )
        outcome = await _apply(row["event_type"], row["event_id"], data_object, stale, request_id)
        await _notify(event, data_object, reader, request_id)
        await fetch(queries.DONE, row_id, outcome)
    _log.info("webhook event processed", event_id=row["event_id"], outcome=outcome)
    return outcome


async def _change_request_of(
    data_object: dict[str, Any], reader: ObjectReader | None
) -> str | None:
    """The request named in the object's metadata, or in its payment method's (a mandate has
    no metadata of its own)."""
    named = (data_object.get("metadata") or {}).get("change_request_id")
    method_id = data_object.get("payment_method")
    if named or not isinstance(method_id, str) or reader is None:
        return str(named) if named else None
    method = await reader.current_object("payment_method", method_id)
    named = ((method or {}).get("metadata") or {}).get("change_request_id")
    return str(named) if named else None


async def _notify(
    event: dict[str, Any],
    data_object: dict[str, Any],
    reader: ObjectReader | None,
    request_id: str | None,
) -> None:
    """A payment failed, an invoice past due, a mandate cancelled, a payout failed: told to
    the support tools (gateway/webhooks/provider_notices.py), in this transaction."""
    customer = data_object.get("customer")
    if not isinstance(customer, str):
        customer = await _customer_of_method(data_object.get("payment_method"), reader)
    if not isinstance(customer, str) and request_id:
        found = await fetch(change_request_queries.SUBJECT, request_id)
        customer = found[0]["stripe_customer_id"] if found else None
    notice = stripe_notice(event, data_object, customer if isinstance(customer, str) else None)
    if notice is not None:
        await record_provider_notice(notice)


async def _customer_of_method(method_id: Any, reader: ObjectReader | None) -> str | None:
    if not isinstance(method_id, str) or reader is None:
        return None
    method = await reader.current_object("payment_method", method_id)
    customer = (method or {}).get("customer")
    return customer if isinstance(customer, str) else None


async def _open_request_of(connected_account: Any) -> str | None:
    """A Connect event (a failed payout) concerns the partner's latest bank-details request."""
    if not isinstance(connected_account, str):
        return None
    found = await fetch(change_request_queries.LATEST_IBAN_CHANGE_OF_PARTNER, connected_account)
    return str(found[0]["id"]) if found else None


async def _apply(
    event_type: str,
    event_id: str,
    data_object: dict[str, Any],
    stale: bool,
    request_id: str | None,
) -> str:
    corrected = await record_stripe_news(event_type, event_id, data_object, stale)
    if corrected is not None:  # a correction's refund (gateway/corrections/stripe_news.py)
        return corrected
    what = CONCERNING.get(event_type)
    if what is None:
        return "ignored"
    if not request_id:
        return "no_change_request"
    news = {
        "event": event_type,
        "event_id": event_id,
        "what": what,
        "object": data_object.get("id"),
        "status": data_object.get("status"),
        "reread_from_stripe": stale,
        "at": datetime.now(UTC).isoformat(),
    }
    if not await record_provider_event(request_id, news, event_id):
        return "change_request_not_found"
    return "recorded"
