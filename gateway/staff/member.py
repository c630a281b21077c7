from __future__ import annotations

from dataclasses import dataclass

from audit.entry import Actor
from gateway.staff.roles import Role


@dataclass(frozen=True)
class StaffMember:
    """The signed-in staff member an action is done by."""

    id: int
    username: str
    role: Role
    # Preferences for the back office; None follows the browser / the gateway's default zone.
    language: str | None = None
    time_zone: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(kind="staff", id=self.username, role=self.role.value)
