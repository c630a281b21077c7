"""Staff accounts: create, change role, deactivate, unlock, reset MFA. Every change is audited,
and deactivation ends the account's sessions in the same transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from anyio import to_thread

from audit import Actor, AuditEntry, append
from gateway.change_requests.lifecycle import return_open_requests
from gateway.core.db.connection import fetch, transaction
from gateway.core.errors import BillingError, ErrorCode
from gateway.i18n import Message
from gateway.staff.roles import Role
from gateway.staff.tables import StaffUser


@dataclass(frozen=True)
class NewStaffAccount:
    id: int
    username: str
    role: Role
    password: str  # shown once; the account enrols MFA at first login


def generate_password() -> str:
    return secrets.token_urlsafe(15)  # 120 bits, 20 characters


async def create_staff(
    username: str,
    email: str,
    role: Role,
    actor: Actor,
    password: str | None = None,
    *,
    first_name: str = "",
    last_name: str = "",
) -> NewStaffAccount:
    """The account, with a temporary password unless one is given. First and last names are
    optional; an operations member's cheques are numbered with their initials (else the first
    two letters of the username)."""
    username = username.strip().lower()
    if not username or len(username) > 100:
        raise BillingError(
            ErrorCode.VALIDATION_FAILED, Message("A username has 1 to 100 characters.")
        )
    first_name = _person_name(
        first_name,
        Message("A first name has up to 100 letters, spaces, apostrophes, dashes or dots."),
    )
    last_name = _person_name(
        last_name,
        Message("A last name has up to 100 letters, spaces, apostrophes, dashes or dots."),
    )
    password = password or generate_password()
    if len(password) < 12:
        raise BillingError(
            ErrorCode.VALIDATION_FAILED, Message("A password has at least 12 characters.")
        )
    hashed = await to_thread.run_sync(StaffUser.hash_password, password)
    async with transaction():
        taken = await fetch(
            "SELECT 1 FROM staff_users WHERE username = $1 OR email = $2", username, email
        )
        if taken:
            raise BillingError(
                ErrorCode.STAFF_USERNAME_TAKEN,
                Message(
                    "A staff account with the username {username} or that email already exists.",
                    username=repr(username),
                ),
            )
        rows = await fetch(
            "INSERT INTO staff_users (username, password, first_name, last_name, email, active,"
            " admin, superuser, role, failed_logins, totp_last_step, created_at)"
            " VALUES ($1, $2, $5, $6, $3, true, true, false, $4, 0, 0, now()) RETURNING id",
            username,
            hashed,
            email,
            role.value,
            first_name,
            last_name,
        )
        await _audit(actor, "staff.create.succeeded", username, after={"role": role.value})
    return NewStaffAccount(rows[0]["id"], username, role, password)


def _person_name(name: str, refusal: Message) -> str:
    name = " ".join(name.split())
    if len(name) > 100 or any(not (char.isalpha() or char in " '-.") for char in name):
        raise BillingError(ErrorCode.VALIDATION_FAILED, refusal)
    return name


async def set_role(username: str, role: Role, actor: Actor) -> None:
    async with transaction():
        before = await _locked(username)
        await fetch("UPDATE staff_users SET role = $2 WHERE id = $1", before["id"], role.value)
        # A new role means new rights: sessions opened under the old role end now.
        await _end_sessions(before["id"])
        await _audit(
            actor,
            "staff.role.changed",
            username,
            before={"role": before["role"]},
            after={"role": role.value},
        )


@dataclass(frozen=True)
class Deactivated:
    sessions_ended: int
    requests_returned: (
        int  # its open requests, back in Triage (gateway/change_requests/lifecycle.py)
    )

    def sentence(self, username: str) -> Message:
        return Message(
            "{username} is deactivated; {sessions} session(s) ended, {requests} open "
            "request(s) back in Triage.",
            username=username,
            sessions=self.sessions_ended,
            requests=self.requests_returned,
        )


async def deactivate(username: str, actor: Actor) -> Deactivated:
    """Ends the account's sessions; its open requests (before Apply) go back to Triage, all
    in one transaction."""
    async with transaction():
        before = await _locked(username)
        await fetch("UPDATE staff_users SET active = false WHERE id = $1", before["id"])
        ended = await _end_sessions(before["id"])
        returned = await return_open_requests(before["id"], username.strip().lower(), actor)
        await _audit(
            actor,
            "staff.deactivate.succeeded",
            username,
            before={"active": before["active"]},
            after={"active": False, "sessions_ended": ended, "requests_returned": returned},
        )
    return Deactivated(ended, returned)


async def unlock(username: str, actor: Actor) -> None:
    async with transaction():
        before = await _locked(username)
        await fetch(
            "UPDATE staff_users SET failed_logins = 0, locked_until = NULL WHERE id = $1",
            before["id"],
        )
        await _audit(actor, "staff.unlock.succeeded", username)


async def reset_mfa(username: str, actor: Actor) -> None:
    """For a lost phone: the account enrols again at its next login."""
    async with transaction():
        before = await _locked(username)
        await fetch(
            "UPDATE staff_users SET totp_secret = NULL, mfa_enrolled_at = NULL WHERE id = $1",
            before["id"],
        )
        await fetch("DELETE FROM staff_recovery_codes WHERE staff_user = $1", before["id"])
        await _end_sessions(before["id"])
        await _audit(actor, "staff.mfa.reset", username)


async def reset_password(username: str, actor: Actor) -> str:
    """A new temporary password, returned once; the account's sessions end."""
    password = generate_password()
    hashed = await to_thread.run_sync(StaffUser.hash_password, password)
    async with transaction():
        before = await _locked(username)
        await fetch("UPDATE staff_users SET password = $2 WHERE id = $1", before["id"], hashed)
        await _end_sessions(before["id"])
        await _audit(actor, "staff.password.reset", username)
    return password


async def _end_sessions(user_id: object) -> int:
    """End the account's sessions and any sign-in half done (a challenge would outlive a reset)."""
    await fetch("DELETE FROM staff_login_challenges WHERE staff_user = $1", user_id)
    ended = await fetch("DELETE FROM staff_sessions WHERE user_id = $1 RETURNING 1", user_id)
    return len(ended)


async def _locked(username: str) -> dict[str, object]:
    rows = await fetch(
        "SELECT id, role, active FROM staff_users WHERE username = $1 FOR UPDATE",
        username.strip().lower(),
    )
    if not rows:
        raise BillingError(
            ErrorCode.STAFF_NOT_FOUND,
            Message("No staff account is called {username}.", username=repr(username)),
        )
    return rows[0]


async def _audit(
    actor: Actor,
    action: str,
    username: str,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
) -> None:
    await append(
        AuditEntry(
            action=action,
            actor=actor,
            target_type="staff_user",
            target_id=username,
            before=before,
            after=after,
        )
    )
