from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ActorKind = Literal["api_key", "staff", "system"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str
    role: str | None = None


SYSTEM = Actor(kind="system", id="gateway")


@dataclass(frozen=True)
class AuditEntry:
    """What happened (`<resource>.<verb>.<outcome>`), who did it, to what, and what changed."""

    action: str
    actor: Actor
    target_type: str
    target_id: str
    subject: str | None = None  # the customer the entry concerns (per-subject keys later)
    reason: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    provider_request_ids: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None
