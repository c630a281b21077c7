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

    @property
    def actor(self) -> Actor:
        return Actor(kind="staff", id=self.username, role=self.role.value)
