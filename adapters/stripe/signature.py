"""Stripe's webhook signature, checked the way Stripe's libraries check it, plus what they
leave out: a timestamp in the future is refused as firmly as a stale one.

`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">[,v1=...]`, keyed with
the whole `whsec_...` secret. Any configured secret may match (two during a rotation).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.events import ProviderEvent
from gateway.core.errors import BillingError, ErrorCode


def _parts(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise BillingError(
            ErrorCode.WEBHOOK_SIGNATURE_INVALID,
            "The Stripe-Signature header is missing or has no timestamp and v1 signature.",
        )
    return timestamp, signatures


def verify_stripe_signature(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance_seconds: int,
    now: float | None = None,
) -> None:
    """Raise unless `payload` was signed by one of `secrets` within the tolerance."""
    timestamp, signatures = _parts(header or "")
    age = (time.time() if now is None else now) - timestamp
    if abs(age) > tolerance_seconds:
        raise BillingError(
            ErrorCode.WEBHOOK_TIMESTAMP_OUT_OF_RANGE,
            f"The event was signed {int(age)} s from now; at most {tolerance_seconds} s either "
            "way is accepted (a replayed or held-back delivery).",
        )
    signed = str(timestamp).encode() + b"." + payload
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, signature) for signature in signatures):
            return
    raise BillingError(
        ErrorCode.WEBHOOK_SIGNATURE_INVALID,
        "No configured webhook secret signed this event.",
    )


def stripe_event(event: dict[str, Any]) -> ProviderEvent:
    """A verified Stripe event as the inbox keeps it (its type stays Stripe's own)."""
    data_object = (event.get("data") or {}).get("object") or {}
    return ProviderEvent(
        provider="stripe",
        event_id=str(event["id"]),
        type=str(event.get("type") or "unknown"),
        object_type=data_object.get("object"),
        object_id=data_object.get("id"),
        account_id=_text(data_object.get("customer")),
        created=datetime.fromtimestamp(int(event.get("created") or 0), UTC),
        payload=event,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
