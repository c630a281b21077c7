"""stripe-python's StripeClient as the gateway uses it: async httpx, a pinned API version,
explicit network retries (the SDK reuses the request's idempotency key when it retries), and
only the gateway's own idempotency keys on the wire.

stripe-python adds a random Idempotency-Key to every POST that has none. The gateway derives a
key per step from the client's key instead, so that a repeat days later, from another process,
is still recognised; `OwnKeysOnly` drops any key that is not one of those (they start with
`bg-`), so a forgotten key shows up as a missing one in the tests, not as a random one in
production.
"""

from __future__ import annotations

import hashlib
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import stripe

from adapters.pacing import paced_client
from adapters.stripe.calls import CallLog, StripeCall

API_VERSION = "2026-10-28.endive"  # the version stripe-python 16.1 is built for
KEY_PREFIX = "bg-"


@dataclass(frozen=True)
class StripeConfig:
    api_key: str
    api_base: str | None = None  # None: Stripe itself; the emulator's URL in sandbox
    timeout_seconds: float = 30.0
    max_network_retries: int = 2
    calls_per_second: float | None = None  # the process's pace for Stripe; None: unpaced
    # Origins besides Stripe's own hosts that invoice PDFs and receipts may be fetched from
    # ("http://127.0.0.1:8011": the emulator, in sandbox).
    document_origins: tuple[str, ...] = ()


def derived_key(key: str, step: str) -> str:
    """The Idempotency-Key for one step of one request (Stripe allows 255 characters)."""
    return KEY_PREFIX + hashlib.sha256(f"{key}|{step}".encode()).hexdigest()[:48]


def fresh_key(step: str) -> str:
    """A key for a POST that reads (a preview): ours, and never replayed."""
    return f"{KEY_PREFIX}{step}-{uuid.uuid4().hex}"


class OwnKeysOnly(stripe.HTTPXClient):
    """stripe-python's httpx client, sending only the gateway's keys and noting each answer's
    `Request-Id` in the adapter's call log (see `calls.py`)."""

    def __init__(
        self, calls: CallLog, calls_per_second: float | None = None, **options: Any
    ) -> None:
        super().__init__(**options)
        self.calls = calls
        self.writes = 0  # POSTs and DELETEs sent: what was read before one may be stale
        # The same client stripe-python builds, over a transport that keeps Stripe's pace
        # (its own client has no connection yet: nothing to close).
        verify = ssl.create_default_context(cafile=stripe.ca_bundle_path)
        self._client_async = paced_client("stripe", calls_per_second, verify=verify)

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        sent = dict(headers)
        if method.upper() in ("POST", "DELETE"):
            self.writes += 1
        if not sent.get("Idempotency-Key", "").startswith(KEY_PREFIX):
            sent.pop("Idempotency-Key", None)
        body, status, answered = await super().request_async(method, url, sent, post_data)
        self.calls.record(
            StripeCall(
                provider_request_id=_header(answered, "Request-Id"),
                method=method.upper(),
                path=urlsplit(url).path,
                status=status,
                write=method.upper() in ("POST", "DELETE"),
                idempotency_key=sent.get("Idempotency-Key"),
            ),
            replayed=_header(answered, "Idempotent-Replayed") == "true",
        )
        return body, status, answered


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def stripe_client(
    config: StripeConfig, calls: CallLog | None = None
) -> tuple[stripe.StripeClient, OwnKeysOnly]:
    """The client, and its HTTP client (to close when the gateway stops)."""
    stripe.enable_telemetry = False  # no timing headers about earlier calls
    addresses = {"api": config.api_base} if config.api_base else None
    http = OwnKeysOnly(
        calls or CallLog(),
        config.calls_per_second,
        timeout=config.timeout_seconds,
        allow_sync_methods=False,
    )
    client = stripe.StripeClient(
        config.api_key,
        base_addresses=addresses,  # type: ignore[arg-type]
        http_client=http,
        max_network_retries=config.max_network_retries,
        stripe_version=API_VERSION,
    )
    return client, http
