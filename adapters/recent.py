"""What an adapter read a moment ago, kept for that moment: the pre-checks read an account,
then its payment methods, its debits in flight and its contact, and each of those needs the
account again. Reading it once saves a provider call per need (each one counted against the
provider's rate limit).

Only for reads that show state (which method is the default, who the contact is): never for
the look-ups that decide whether a write was already made, and a write to the object drops it
at once. Another process's change can stay unseen for at most `seconds`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")
SECONDS = 2.0
KEPT = 1024


class RecentReads(Generic[V]):
    """`writes`: a count of the writes the adapter sent so far; a value read before the
    latest write is forgotten (besides `clear()`)."""

    def __init__(self, seconds: float = SECONDS, writes: Callable[[], int] = lambda: 0) -> None:
        self._seconds = seconds
        self._writes = writes
        self._values: dict[str, tuple[float, int, V]] = {}

    def get(self, key: str) -> V | None:
        found = self._values.get(key)
        if found is None:
            return None
        read_at, writes, value = found
        if time.monotonic() - read_at > self._seconds or writes != self._writes():
            del self._values[key]
            return None
        return value

    def put(self, key: str, value: V) -> V:
        if len(self._values) >= KEPT:
            self._values.clear()  # a burst of distinct keys: start again, rather than grow
        self._values[key] = (time.monotonic(), self._writes(), value)
        return value

    def clear(self) -> None:
        self._values.clear()
