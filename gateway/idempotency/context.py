"""What a handler knows of the Idempotency-Key its request holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.types import Scope

_STATE_KEY = "idempotency"


@dataclass(frozen=True)
class IdempotencyContext:
    key: str
    # An earlier attempt with this key died mid-way: its work may have committed, so the
    # service looks for it (its recovery point) before doing anything again.
    recovering: bool


def remember(scope: Scope, context: IdempotencyContext) -> None:
    state: dict[str, Any] = scope.setdefault("state", {})
    state[_STATE_KEY] = context


def idempotency_of(scope: Scope) -> IdempotencyContext | None:
    state: dict[str, Any] = scope.get("state", {})
    context = state.get(_STATE_KEY)
    return context if isinstance(context, IdempotencyContext) else None
