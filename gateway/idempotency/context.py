"""What a handler knows of the Idempotency-Key its request holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from litestar.types import Scope

if TYPE_CHECKING:
    from gateway.idempotency.service import Claimed

_STATE_KEY = "idempotency"


@dataclass
class StoredAnswer:
    """The answer a service stored with its change, in its own transaction: when the response
    is those very bytes, the body guard has nothing left to store (one round trip fewer)."""

    status: int | None = None
    content_type: str | None = None
    body: bytes | None = None

    def is_exactly(self, status: int, content_type: str, body: bytes) -> bool:
        return (self.status, self.content_type, self.body) == (status, content_type, body)


@dataclass
class FreshClaim:
    """A key the body guard did not claim: the service's one statement claims it, storing its
    answer as it makes its change (a round trip fewer on the hottest route). What the record
    needs; `taken`, set by the service when the key turned out to be held already (a replay,
    a reuse or a racing attempt): the body guard then answers as for a claimed key."""

    fingerprint: str
    method: str
    path: str
    taken: bool = False
    # The claim a service took before refusing (`answers.claim_before_refusing`): the body
    # guard stores the refusal under it, as for any claimed key.
    claimed: Claimed | None = None


@dataclass(frozen=True)
class IdempotencyContext:
    key: str
    # An earlier attempt with this key died mid-way: its work may have committed, so the
    # service looks for it (its recovery point) before doing anything again.
    recovering: bool
    stored: StoredAnswer = field(default_factory=StoredAnswer, compare=False)
    fresh: FreshClaim | None = field(default=None, compare=False)


def remember(scope: Scope, context: IdempotencyContext) -> None:
    state: dict[str, Any] = scope.setdefault("state", {})
    state[_STATE_KEY] = context


def idempotency_of(scope: Scope) -> IdempotencyContext | None:
    state: dict[str, Any] = scope.get("state", {})
    context = state.get(_STATE_KEY)
    return context if isinstance(context, IdempotencyContext) else None
