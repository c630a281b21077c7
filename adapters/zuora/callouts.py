"""Zuora callouts into the gateway: the format, its check, and the events the gateway handles.

Zuora sends a callout (an HTTP notification) when an event happens; the gateway documents the
callout its tenant must be configured to send, and refuses any other:

    POST <gateway>/v1/webhooks/zuora
    Authorization: Basic base64("<BG_ZUORA_CALLOUT_USERNAME>:<BG_ZUORA_CALLOUT_PASSWORD>")
    Content-Type: application/json
    Zuora-Notification-Id: <the event's id: the same on every retry of one notification>
    X-Callout-Timestamp: <unix seconds when it was sent>
    X-Callout-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>[,v1=<...>]

    {"eventCategory": "PaymentProcessed", "eventTimestamp": "2026-12-05T10:00:00Z",
     "objectType": "Payment", "objectId": "<Payment.ID>",
     "accountId": "<Account.ID>", "accountNumber": "<Account.Number>"}

Basic auth alone is a shared password sent with every call; the HMAC over the timestamp and the
exact body proves the body unchanged and recent. Any secret of BG_ZUORA_CALLOUT_SECRETS may
sign (two during a rotation), any `v1=` value may match; a timestamp further than
BG_WEBHOOK_TOLERANCE_SECONDS from now, either way, is refused (a replayed or held-back call).
Every comparison is constant-time.

Zuora's callout history (`GET /v1/notification-history/callout`) lists the same notifications
with their merge fields in `eventContext` (`<Event.ID>`, `<Event.Category>`, `<Object.ID>`,
`<Account.ID>`, `<Event.Timestamp>`): `event_from_history` makes the same neutral event of
one, so a notification pulled from the history after a failed call is the one the inbox may
already hold.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.events import ProviderEvent
from gateway.core.errors import BillingError, ErrorCode

NOTIFICATION_ID_HEADER = "Zuora-Notification-Id"
TIMESTAMP_HEADER = "X-Callout-Timestamp"
SIGNATURE_HEADER = "X-Callout-Signature"


@dataclass(frozen=True)
class CalloutEvent:
    """An event the gateway acts on: its neutral name, what it is about, Zuora's names for it
    (the callout's category, the notification's standard event number), and what a
    specialist reads of it."""

    category: str
    type: str
    object_type: str
    zuora_object: str
    event_number: str
    what: str


HANDLED = (
    CalloutEvent(
        "PaymentProcessed", "payment.succeeded", "payment", "Payment", "2120", "payment settled"
    ),
    CalloutEvent("PaymentFailed", "payment.failed", "payment", "Payment", "2110", "payment failed"),
    CalloutEvent(
        "RefundProcessed", "refund.succeeded", "refund", "Refund", "2410", "refund processed"
    ),
    # No standard Zuora event: a custom event on PaymentMethod.PaymentMethodStatus = Closed.
    CalloutEvent(
        "PaymentMethodClosed",
        "payment_method.closed",
        "payment_method",
        "PaymentMethod",
        "user.notification:PaymentMethodClosed",
        "payment method closed",
    ),
)
BY_CATEGORY = {event.category: event for event in HANDLED}
ACTED_ON = {event.type: event.what for event in HANDLED}  # what each event tells a specialist
BY_NUMBER = {event.event_number: event for event in HANDLED}


@dataclass(frozen=True)
class CalloutAuth:
    username: str
    password: str
    secrets: tuple[str, ...]


def sign_callout(body: bytes, secret: str, timestamp: int | None = None) -> tuple[str, str]:
    """The timestamp and signature headers' values for `body`, as the tenant sends them."""
    moment = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), moment.encode() + b"." + body, hashlib.sha256)
    return moment, f"v1={digest.hexdigest()}"


def basic_authorization(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _refused(detail: str) -> BillingError:
    return BillingError(ErrorCode.WEBHOOK_SIGNATURE_INVALID, detail)


def _check_basic(authorization: str | None, auth: CalloutAuth) -> None:
    kind, _, encoded = (authorization or "").partition(" ")
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        given = b""
    expected = f"{auth.username}:{auth.password}".encode()
    # Compared whole and in constant time: neither the user nor the password leaks by timing.
    if kind.lower() != "basic" or not hmac.compare_digest(given, expected):
        raise _refused("The callout's Basic credentials are not the configured Zuora callout user.")


def verify_callout(
    body: bytes,
    headers: Mapping[str, str],
    auth: CalloutAuth,
    *,
    tolerance_seconds: int,
    now: float | None = None,
) -> None:
    """Raise a 401 problem unless the callout carries the right Basic credentials and a recent
    signature by one of the secrets over its timestamp and exact body."""
    lowered = {name.lower(): value for name, value in headers.items()}
    _check_basic(lowered.get("authorization"), auth)
    moment = lowered.get(TIMESTAMP_HEADER.lower(), "").strip()
    if not moment.isdigit():
        raise _refused(f"The callout has no {TIMESTAMP_HEADER} in unix seconds.")
    age = (time.time() if now is None else now) - int(moment)
    if abs(age) > tolerance_seconds:
        raise BillingError(
            ErrorCode.WEBHOOK_TIMESTAMP_OUT_OF_RANGE,
            f"The callout was signed {int(age)} s from now; at most {tolerance_seconds} s "
            "either way is accepted (a replayed or held-back call).",
        )
    given = [
        part.strip().removeprefix("v1=")
        for part in lowered.get(SIGNATURE_HEADER.lower(), "").split(",")
        if part.strip().startswith("v1=")
    ]
    signed = moment.encode() + b"." + body
    for secret in auth.secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, signature) for signature in given):
            return
    raise _refused("No configured Zuora callout secret signed this callout.")


def _moment(value: Any) -> datetime:
    """Zuora's timestamps: ISO with an offset ("+0800" or "Z"), or the tenant's local time
    without one (taken as UTC, the emulator's and the gateway's recommended tenant zone)."""
    text = str(value or "").strip()
    if not text:
        return datetime.now(UTC)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _event(
    notification_id: str,
    category: str,
    object_id: Any,
    account_id: Any,
    created: Any,
    payload: dict[str, Any],
) -> ProviderEvent:
    known = BY_CATEGORY.get(category)
    if not notification_id.strip() or len(notification_id) > 255:
        raise ValueError("a callout needs a Zuora-Notification-Id of at most 255 characters")
    return ProviderEvent(
        provider="zuora",
        event_id=notification_id.strip(),
        type=known.type if known else f"zuora.{category or 'unknown'}"[:100],
        object_type=known.object_type if known else None,
        object_id=str(object_id) if object_id else None,
        account_id=str(account_id) if account_id else None,
        created=_moment(created),
        payload=payload,
    )


def callout_event(notification_id: str | None, body: Any) -> ProviderEvent:
    """The neutral event of a verified callout; ValueError when it is not one (no id, not
    an object, no category). An event the gateway does not handle keeps `zuora.<category>`."""
    if not isinstance(body, dict) or not isinstance(body.get("eventCategory"), str):
        raise ValueError("a callout body is a JSON object with an eventCategory")
    return _event(
        notification_id or "",
        body["eventCategory"],
        body.get("objectId"),
        body.get("accountId"),
        body.get("eventTimestamp"),
        body,
    )


def event_from_history(item: dict[str, Any]) -> ProviderEvent:
    """The neutral event of one entry of Zuora's callout history (the same event id as the
    callout's Zuora-Notification-Id)."""
    context = item.get("eventContext") or {}
    number = str(item.get("eventCategory") or "")
    category = context.get("<Event.Category>") or (
        BY_NUMBER[number].category if number in BY_NUMBER else number
    )
    notification_id = str(item.get("notificationId") or context.get("<Event.ID>") or "")
    body = {
        "eventCategory": category,
        "eventTimestamp": context.get("<Event.Timestamp>"),
        "objectType": BY_CATEGORY[category].zuora_object if category in BY_CATEGORY else None,
        "objectId": context.get("<Object.ID>"),
        "accountId": context.get("<Account.ID>"),
        "accountNumber": context.get("<Account.Number>"),
        "pulledFromHistory": True,
    }
    return _event(
        notification_id,
        category,
        body["objectId"],
        body["accountId"],
        body["eventTimestamp"] or item.get("createTime"),
        body,
    )
