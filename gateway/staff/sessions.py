"""Staff sessions: piccolo-api's session rows, so that piccolo-admin's own check agrees with ours.

A session is opened only by a complete sign-in (password and second factor). It ends after
`BG_STAFF_IDLE_MINUTES` without a request or `BG_STAFF_SESSION_HOURS` after sign-in, when the
account is deactivated or loses its authenticator, or at sign-out.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from gateway.core.db.connection import fetch
from gateway.staff import queries
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import Settings


class StaffSessions:
    def __init__(self, settings: Settings) -> None:
        self._idle = timedelta(minutes=settings.staff_idle_minutes)
        self._absolute = timedelta(hours=settings.staff_session_hours)

    async def open(self, user_id: int) -> str:
        """A new random session id: never one the browser brought (no session fixation)."""
        # piccolo-api's session rows hold naive local times; keep to its convention.
        now = datetime.now()
        token = secrets.token_urlsafe(32)
        await fetch(
            queries.OPEN_SESSION,
            token,
            user_id,
            now + self._idle,
            now + self._absolute,
        )
        return token

    async def resolve(self, token: str) -> StaffMember | None:
        """The staff member of a live session, which this request keeps alive; else None."""
        rows = await fetch(
            queries.RESOLVE_SESSION,
            token,
        )
        if not rows:
            return None
        row, now = rows[0], datetime.now()
        if row["expiry_date"] <= now or row["max_expiry_date"] <= now:
            await fetch(queries.DROP_SESSION, row["session_id"])
            return None
        # Slide the idle limit, writing at most about once a minute.
        if row["expiry_date"] - now < self._idle - timedelta(minutes=1):
            await fetch(
                queries.SLIDE_SESSION,
                row["session_id"],
                now + self._idle,
            )
        return StaffMember(
            row["id"], row["username"], Role(row["role"]), row["language"], row["time_zone"]
        )

    async def end(self, token: str) -> StaffMember | None:
        """Delete the session, in the caller's transaction: `StaffLogin.end_session` writes
        `staff.logout.succeeded` in the same one."""
        rows = await fetch(
            queries.END_SESSION,
            token,
        )
        if not rows:
            return None
        return StaffMember(rows[0]["id"], rows[0]["username"], Role(rows[0]["role"]))
