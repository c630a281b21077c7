"""Which Zuora call settled a write, so that the fulfilment layer can record it.

Every call the adapter makes inside a write carries a `Zuora-Track-Id` derived from the write's
idempotency key (a stable prefix, computable from the step's key, then a few random characters,
so that each HTTP call has its own id). The call log keeps, per idempotency key, the last call:
the write itself when one was sent, else the look-up that found the earlier work. Callers ask the
adapter for it by key after the write returns (`ZuoraAdapter.last_write(key)`), which stays right
under concurrency and across tasks, where a context variable read by the caller would not.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

KEPT_KEYS = 4096  # writes remembered; the fulfilment layer reads right after each one
_current_key: ContextVar[str | None] = ContextVar("zuora_operation_key", default=None)


@dataclass(frozen=True)
class ProviderCall:
    """One call to Zuora, as its support finds it: by the request id Zuora gave it (REST's
    `Zuora-Request-Id`; SOAP answers none) or by the track id the gateway sent."""

    provider_request_id: str | None
    track_id: str
    method: str  # HTTP method, or the SOAP operation ("create", "amend", ...)
    path: str
    status: int
    write: bool


def track_prefix(idempotency_key: str) -> str:
    """The part of every track id under one key: `bg-` and 40 hex digits of its hash (Zuora:
    at most 64 US-ASCII characters, none of `:;"'`, and the client's key is not shown)."""
    return "bg-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


def new_track_id() -> str:
    """A fresh track id: under the current write's key when there is one."""
    key = _current_key.get()
    if key is None:
        return f"bg-{secrets.token_hex(16)}"
    return f"{track_prefix(key)}-{secrets.token_hex(4)}"


@contextmanager
def operation(idempotency_key: str) -> Iterator[None]:
    """Marks the calls made inside as belonging to the write under `idempotency_key`."""
    token = _current_key.set(idempotency_key)
    try:
        yield
    finally:
        _current_key.reset(token)


class CallLog:
    """The last call per idempotency key (a write beats a read), for the last few thousand."""

    def __init__(self) -> None:
        self._calls: OrderedDict[str, ProviderCall] = OrderedDict()

    def record(self, call: ProviderCall) -> None:
        key = _current_key.get()
        if key is None:
            return
        earlier = self._calls.get(key)
        if earlier is not None and earlier.write and not call.write:
            return  # a read after the write (finding what it made) does not replace it
        self._calls[key] = call
        self._calls.move_to_end(key)
        while len(self._calls) > KEPT_KEYS:
            self._calls.popitem(last=False)

    def last(self, idempotency_key: str) -> ProviderCall | None:
        return self._calls.get(idempotency_key)
