"""Which Stripe request settled a write, so that the fulfilment layer can record Stripe's
request id (`Request-Id`, `req_...`: what Stripe's support and dashboard logs find a call by).

Each write port of the adapter runs its calls under the caller's idempotency key (`operation`);
the HTTP client records every answer under that key, the write beating the reads around it (a
step that found its work done already records the read that found it). Callers ask by key
after the write returns: `StripeAdapter.last_write(key)`, the same shape as
`ZuoraAdapter.last_write(key)`. Keyed, not a context variable read by the caller, so that it
stays right under concurrency and whichever task made the call.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

KEPT_KEYS = 4096  # writes remembered; the fulfilment layer reads right after each one
_current_key: ContextVar[str | None] = ContextVar("stripe_operation_key", default=None)


@dataclass(frozen=True)
class StripeCall:
    """One HTTP call to Stripe under a write's idempotency key."""

    provider_request_id: str | None  # Stripe's `Request-Id` header
    method: str
    path: str
    status: int
    write: bool  # POST or DELETE
    idempotency_key: str | None  # the key Stripe saw (derived from the caller's)


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
        self._calls: OrderedDict[str, StripeCall] = OrderedDict()

    def record(self, call: StripeCall, *, replayed: bool = False) -> None:
        """`replayed`: Stripe answered with the stored answer of an earlier request under the
        same key (`Idempotent-Replayed`); that earlier request stays the one named."""
        key = _current_key.get()
        if key is None:
            return
        earlier = self._calls.get(key)
        if earlier is not None and earlier.write and (replayed or not call.write):
            return  # a read after the write (reading what it made) does not replace it
        self._calls[key] = call
        self._calls.move_to_end(key)
        while len(self._calls) > KEPT_KEYS:
            self._calls.popitem(last=False)

    def last(self, idempotency_key: str) -> StripeCall | None:
        return self._calls.get(idempotency_key)


P = ParamSpec("P")
R = TypeVar("R")


def under_key(
    method: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """A write port whose calls are logged under its keyword `idempotency_key`."""

    @functools.wraps(method)
    async def logged(*args: P.args, **kwargs: P.kwargs) -> R:
        key = kwargs.get("idempotency_key")
        if not isinstance(key, str):
            return await method(*args, **kwargs)
        with operation(key):
            return await method(*args, **kwargs)

    return logged
