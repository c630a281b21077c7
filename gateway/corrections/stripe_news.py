"""Stripe's news about a correction's refund (a charge refunded, a refund updated or failed),
recorded on the correction whose steps name the refund or the payment it refunds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.stripe.units import from_stripe_amount
from gateway.corrections.provider_events import record_correction_event

# Stripe events about a correction's work, and what whoever filed it should read from them.
CORRECTION_EVENTS = {
    "charge.refunded": "payment refunded",
    "charge.refund.updated": "refund updated",
    "refund.created": "refund created",
    "refund.updated": "refund updated",
    "refund.failed": "refund failed",
}


async def record_stripe_news(
    event_type: str, event_id: str, data_object: dict[str, Any], stale: bool
) -> str | None:
    """The outcome for a correction event (in the caller's transaction); None for any other."""
    what = CORRECTION_EVENTS.get(event_type)
    if what is None:
        return None
    currency = str(data_object.get("currency") or "").upper() or None
    refunded = data_object.get("amount_refunded", data_object.get("amount"))
    if currency is not None and isinstance(refunded, int):
        refunded = from_stripe_amount(refunded, currency).amount_minor  # ISO minor units
    news = {
        "provider": "stripe",
        "event": event_type,
        "what": what,
        "object": data_object.get("id"),
        "status": data_object.get("status"),
        "amount_refunded": refunded,
        "currency": currency,
        "reread_from_stripe": stale,
        "at": datetime.now(UTC).isoformat(),
    }
    kind = str(data_object.get("object") or "object")
    # The refund itself, else the payment (intent) it refunds: what the correction's steps name.
    for object_id in (data_object.get("id"), data_object.get("payment_intent")):
        if isinstance(object_id, str) and await record_correction_event(
            "stripe", kind, object_id, news, event_id
        ):
            return "recorded_on_correction"
    return "no_correction"
