"""The emulator's Stripe account: objects by id, Stripe's id prefixes, Stripe's errors.

Objects are kept as the JSON Stripe returns (dicts), plus private fields starting with `_`
(a payment method's full IBAN, as Stripe keeps it) that are never sent.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

StripeObject = dict[str, Any]
API_KEY = "sk_test_emulator"  # the emulator's own key, sandbox only
WEBHOOK_SECRET = "whsec_emulator"  # noqa: S105 (the emulator's own, sandbox only)


class StripeError(Exception):
    """An error as Stripe answers it: HTTP status and the `error` object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {
            "type": type,
            "code": code,
            "message": message,
            "param": param,
            "doc_url": f"https://stripe.com/docs/error-codes/{code}" if code else None,
        }


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


FaultMode = Literal["fail", "slow", "lost_after_commit"]


@dataclass
class OperationFault:
    """A fault on one operation (`POST /v1/customers/*`), for its next `times` calls."""

    mode: FaultMode
    times: int = 1
    seconds: float = 0.0
    status: int = 400  # `fail`: Stripe's refusal (400) by default; 500 or 503 for an outage
    code: str | None = None


@dataclass
class Faults:
    """Switches for tests and demos; each counts down as it fires."""

    latency_seconds: float = 0.0
    server_errors: int = 0  # the next N requests answer 500 api_error and change nothing
    rate_limited: int = 0  # the next N requests answer 429 rate_limit, changing nothing
    slow_after_commit_seconds: float = 0.0  # the next write commits, then answers this late
    slow_after_commit: int = 0
    # Stripe's rate limit: above this many requests in any one second, 429 `rate_limit` (0: off).
    rate_limit_per_second: float = 0.0
    # By operation name (`POST /v1/payment_methods/*/detach`); set by /_emulator/operation-faults.
    _operations: dict[str, OperationFault] = field(default_factory=dict)


@dataclass
class StripeAccount:
    api_key: str = API_KEY
    objects: dict[str, StripeObject] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    webhook_endpoints: list[tuple[str, str]] = field(default_factory=list)  # (url, secret)
    events: list[StripeObject] = field(default_factory=list)  # emitted, oldest first
    _fingerprint_key: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    def new(
        self, prefix: str, kind: str, fields: StripeObject, object_id: str | None = None
    ) -> StripeObject:
        record = {
            "id": object_id
            or f"{prefix}_{secrets.token_urlsafe(18).replace('-', 'x').replace('_', 'y')}",
            "object": kind,
            "created": int(time.time()),
            "livemode": False,
            **fields,
        }
        self.objects[record["id"]] = record
        return record

    def get(self, kind: str, object_id: str, param: str = "id") -> StripeObject:
        record = self.objects.get(object_id)
        if record is None or record["object"] != kind:
            raise missing(kind.replace("_", " "), object_id, param)
        return record

    def all(self, kind: str) -> list[StripeObject]:
        return [record for record in self.objects.values() if record["object"] == kind]

    def emit(self, kind: str, data_object: StripeObject) -> StripeObject:
        """An event as Stripe sends it, kept for delivery (see `app.py`)."""
        event = self.new(
            "evt",
            "event",
            {
                "type": kind,
                "api_version": None,
                "data": {"object": public(data_object)},
                "pending_webhooks": len(self.webhook_endpoints),
                "request": {"id": None, "idempotency_key": None},
            },
        )
        self.events.append(event)
        return event

    def fingerprint(self, secret: str) -> str:
        """Stable per value and per account, as Stripe's fingerprints are: same IBAN, same one."""
        digest = hmac.new(self._fingerprint_key, secret.encode(), hashlib.sha256).hexdigest()
        return digest[:16]


def public(record: StripeObject) -> StripeObject:
    """What Stripe sends of an object: everything but the private fields."""
    return {key: value for key, value in record.items() if not key.startswith("_")}
