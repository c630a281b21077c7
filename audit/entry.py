from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from audit.actions import Action

ActorKind = Literal["api_key", "staff", "system"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str
    role: str | None = None


SYSTEM = Actor(kind="system", id="gateway")


@dataclass(frozen=True)
class AuditEntry:
    """What happened (a catalogue action), who did it, to which row, and what changed. The
    customer it is filed under is the action's rule applied to the row (`audit.actions`)."""

    action: Action
    actor: Actor
    about: Mapping[str, Any]  # the row: its id is the target's unless `target_id` says
    target_id: object = None
    reason: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    provider_request_ids: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None

    @property
    def subject(self) -> str | None:
        return self.action.subject.of(self.about)

    @property
    def target(self) -> str:
        return str(self.about["id"] if self.target_id is None else self.target_id)
