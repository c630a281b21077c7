"""Staff accounts: create, change role, deactivate, unlock, reset MFA. Every change is audited,
and deactivation ends the account's sessions in the same transaction."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from anyio import to_thread

from audit import Actor, AuditEntry, append
from audit.actions import Action
from gateway.core.db.connection import fetch, transaction
from gateway.core.errors import BillingError, ErrorCode
from gateway.i18n import Message
from gateway.staff import queries
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
        taken = await fetch(queries.TAKEN, username, email)
        if taken:
            raise BillingError(
                ErrorCode.STAFF_USERNAME_TAKEN,
                Message(
                    "A staff account with the username {username} or that email already exists.",
                    username=repr(username),
                ),
            )
        rows = await fetch(
            queries.INSERT_USER,
            username,
            hashed,
            email,
            role.value,
            first_name,
            last_name,
        )
        await _audit(actor, Action.STAFF_CREATE_SUCCEEDED, username, after={"role": role.value})
    return NewStaffAccount(rows[0]["id"], username, role, password)


def _person_name(name: str, refusal: Message) -> str:
    name = " ".join(name.split())
    if len(name) > 100 or any(not (char.isalpha() or char in " '-.") for char in name):
        raise BillingError(ErrorCode.VALIDATION_FAILED, refusal)
    return name


async def set_role(username: str, role: Role, actor: Actor) -> None:
    async with transaction():
        before = await _locked(username)
        await fetch(queries.SET_ROLE, before["id"], role.value)
        # A new role means new rights: sessions opened under the old role end now.
        await _end_sessions(before["id"])
        await _audit(
            actor,
            Action.STAFF_CHANGE_ROLE_SUCCEEDED,
            username,
            before={"role": before["role"]},
            after={"role": role.value},
        )


@dataclass(frozen=True)
class Deactivated:
    sessions_ended: int
    requests_returned: int  # its open requests, back in Triage

    def sentence(self, username: str) -> Message:
        return Message(
            "{username} is deactivated; {sessions} session(s) ended, {requests} open "
            "request(s) back in Triage.",
            username=username,
            sessions=self.sessions_ended,
            requests=self.requests_returned,
        )


# Hands a deactivated account's open work back (staff id, username, actor), in the
# deactivation's transaction, and counts it: change_requests' `return_open_requests`, passed by
# the callers, which sit above both (staff must not import the requests it is assigned).
ReturnRequests = Callable[[object, str, Actor], Awaitable[int]]


async def deactivate(username: str, actor: Actor, return_requests: ReturnRequests) -> Deactivated:
    """Ends the account's sessions; its open requests (before Apply) go back to Triage, all
    in one transaction."""
    async with transaction():
        before = await _locked(username)
        await fetch(queries.DEACTIVATE, before["id"])
        ended = await _end_sessions(before["id"])
        returned = await return_requests(before["id"], username.strip().lower(), actor)
        await _audit(
            actor,
            Action.STAFF_DEACTIVATE_SUCCEEDED,
            username,
            before={"active": before["active"]},
            after={"active": False, "sessions_ended": ended, "requests_returned": returned},
        )
    return Deactivated(ended, returned)


async def unlock(username: str, actor: Actor) -> None:
    async with transaction():
        before = await _locked(username)
        await fetch(
            queries.UNLOCK,
            before["id"],
        )
        await _audit(actor, Action.STAFF_UNLOCK_SUCCEEDED, username)


async def reset_mfa(username: str, actor: Actor) -> None:
    """For a lost phone: the account enrols again at its next login."""
    async with transaction():
        before = await _locked(username)
        await fetch(
            queries.RESET_MFA,
            before["id"],
        )
        await fetch(queries.FORGET_RECOVERY_CODES, before["id"])
        await _end_sessions(before["id"])
        await _audit(actor, Action.STAFF_RESET_MFA_SUCCEEDED, username)


async def reset_password(username: str, actor: Actor) -> str:
    """A new temporary password, returned once; the account's sessions end."""
    password = generate_password()
    hashed = await to_thread.run_sync(StaffUser.hash_password, password)
    async with transaction():
        before = await _locked(username)
        await fetch(queries.SET_PASSWORD, before["id"], hashed)
        await _end_sessions(before["id"])
        await _audit(actor, Action.STAFF_RESET_PASSWORD_SUCCEEDED, username)
    return password


async def _end_sessions(user_id: object) -> int:
    """End the account's sessions and any sign-in half done (a challenge would outlive a reset)."""
    await fetch(queries.END_CHALLENGES, user_id)
    ended = await fetch(queries.END_SESSIONS, user_id)
    return len(ended)


async def _locked(username: str) -> dict[str, object]:
    rows = await fetch(
        queries.LOCK_BY_USERNAME,
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
    action: Action,
    username: str,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
) -> None:
    await append(
        AuditEntry(
            action=action,
            actor=actor,
            about={},
            target_id=username,
            before=before,
            after=after,
        )
    )
