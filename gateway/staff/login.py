"""Staff sign-in: password, then a TOTP code (or a recovery code), then a fresh session.

A correct password alone never opens a session: it opens a five-minute challenge for the second
step, and an account without MFA enrols there before its first session. Every wrong password or
code counts towards the lockout, which lives in PostgreSQL so every process sees it. Sessions are
piccolo-api's session rows, so piccolo-admin's own check agrees with ours.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from anyio import to_thread

from audit import Actor, AuditEntry, append
from audit.actions import Action
from gateway.core.crypto import Cipher
from gateway.core.db.connection import fetch, transaction
from gateway.i18n import Message
from gateway.staff import queries
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from gateway.staff.sessions import StaffSessions
from gateway.staff.tables import StaffUser
from settings import Settings

CHALLENGE_MINUTES = 5
TOTP_ISSUER = "billing-gateway"
RECOVERY_CODE_COUNT = 10
TOTP_AAD = "staff_user.totp_secret"
_WRONG = Message("Wrong username, password or code.")


@dataclass(frozen=True)
class Refused:
    message: str  # a Message: the sign-in page says it in the reader's language


@dataclass(frozen=True)
class CodeNeeded:
    challenge: str


@dataclass(frozen=True)
class EnrolmentNeeded:
    challenge: str
    secret: str  # shown as a QR code and as text, during enrolment only
    provisioning_uri: str


@dataclass(frozen=True)
class SignedIn:
    session_token: str
    staff: StaffMember
    max_age_seconds: int
    recovery_codes: tuple[str, ...] = ()  # only right after enrolment


PasswordOutcome = Refused | CodeNeeded | EnrolmentNeeded
CodeOutcome = Refused | SignedIn


def _audit(action: Action, username: str, **after: Any) -> AuditEntry:
    return AuditEntry(
        action=action,
        actor=Actor(kind="staff", id=username),
        about={},
        target_id=username,
        after=after or None,
    )


def _verify_password(password: str, stored: str) -> bool:
    _algorithm, iterations, salt, _hashed = StaffUser.split_stored_password(stored)
    candidate = StaffUser.hash_password(password, salt, int(iterations))
    return hmac.compare_digest(candidate, stored)


class StaffLogin:
    def __init__(self, settings: Settings, cipher: Cipher) -> None:
        self._settings = settings
        self._cipher = cipher
        self._absolute = timedelta(hours=settings.staff_session_hours)
        self.sessions = StaffSessions(settings)

    # -- step 1: password ------------------------------------------------------------------

    async def check_password(self, username: str, password: str) -> PasswordOutcome:
        username = username.strip().lower()[:100]
        rows = await fetch(
            queries.SIGN_IN_USER,
            username,
        )
        if not rows or not rows[0]["active"]:
            # Same cost as a real check, so timing does not tell which usernames exist.
            await to_thread.run_sync(StaffUser.hash_password, password[:512])
            await append(_audit(Action.STAFF_LOGIN_FAILED, username, reason="unknown or inactive"))
            return Refused(_WRONG)
        user = rows[0]
        # The attempt is counted before the slow hash, in one statement: guesses sent at the
        # same time cannot all get in before the lock, and none is checked once it is locked.
        # A lock that has run out starts the count again.
        # It commits on its own, before the hash (never move it into a transaction with what
        # follows): concurrent guesses see the count at once rather than queueing on a row lock
        # held over the hash, and a crash during the hash still leaves the attempt counted. It
        # is provisional, so it has no entry of its own: the outcome records it, in one
        # transaction with its own change (`staff.login.failed`, or
        # `staff.login.password_accepted`, which gives the attempt back).
        counted = await fetch(
            queries.COUNT_ATTEMPT,
            user["id"],
            self._settings.staff_lockout_failures,
        )
        if not counted:
            await append(_audit(Action.STAFF_LOGIN_REFUSED, username, reason="locked"))
            return Refused(self._locked_message(user["locked_until"] if user["locked"] else None))
        if not await to_thread.run_sync(_verify_password, password[:512], user["password"]):
            return await self._failure(user["id"], username, "wrong password", counted=True)
        # Right password: the attempt is not a failure after all. The count itself is cleared
        # only once the second factor passes.
        async with transaction():
            await fetch(
                queries.GIVE_BACK_ATTEMPT,
                user["id"],
            )
            return await self._open_challenge(
                user["id"], enrolled=user["enrolled"], username=username
            )

    async def _open_challenge(
        self, user_id: int, *, enrolled: bool, username: str
    ) -> PasswordOutcome:
        """A challenge for the second step, and its entry, in the caller's transaction."""
        token = secrets.token_urlsafe(32)
        secret = None if enrolled else pyotp.random_base32()
        await fetch(
            queries.OPEN_CHALLENGE,
            self._hash(token, "challenge"),
            user_id,
            self._cipher.encrypt(secret, context=TOTP_AAD) if secret else None,
            CHALLENGE_MINUTES,
        )
        # Neither the challenge token nor the pending secret: only what comes next.
        await append(
            _audit(
                Action.STAFF_CHECK_PASSWORD_SUCCEEDED,
                username,
                next_step="code" if secret is None else "enrolment",
            )
        )
        if secret is None:
            return CodeNeeded(token)
        uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)
        return EnrolmentNeeded(token, secret, uri)

    # -- step 2: TOTP code, recovery code, or enrolment ---------------------------------------

    async def challenge_state(self, challenge: str) -> CodeNeeded | EnrolmentNeeded | None:
        """What a sign-in still in progress asks for (the page may be reloaded); None if gone."""
        rows = await fetch(
            queries.CHALLENGE_STATE,
            self._hash(challenge, "challenge"),
        )
        if not rows:
            return None
        if rows[0]["pending_totp_secret"] is None:
            return CodeNeeded(challenge)
        secret = self._cipher.decrypt(rows[0]["pending_totp_secret"], context=TOTP_AAD)
        uri = pyotp.TOTP(secret).provisioning_uri(name=rows[0]["username"], issuer_name=TOTP_ISSUER)
        return EnrolmentNeeded(challenge, secret, uri)

    async def check_code(self, challenge: str, code: str) -> CodeOutcome:
        code = "".join(code.split()).lower()
        async with transaction():
            rows = await fetch(
                queries.LOCK_CHALLENGE,
                self._hash(challenge, "challenge"),
            )
            if not rows or not rows[0]["active"]:
                return Refused(
                    Message("That sign-in took too long or was already used; start again.")
                )
            user = rows[0]
            if user["locked"]:
                await append(_audit(Action.STAFF_LOGIN_REFUSED, user["username"], reason="locked"))
                return Refused(self._locked_message(user["locked_until"]))
            enrolling = user["pending_totp_secret"] is not None
            if enrolling and user["totp_secret"] is not None:
                # Begun before the account enrolled elsewhere: it must not replace that factor.
                await fetch(queries.DROP_CHALLENGE, user["challenge_id"])
                return Refused(Message("This sign-in is out of date; start again."))
            sealed = user["pending_totp_secret"] if enrolling else user["totp_secret"]
            secret = self._cipher.decrypt(sealed, context=TOTP_AAD)
            step = _matching_step(secret, code, after=0 if enrolling else user["totp_last_step"])
            recovery_used = False
            if step is None and not enrolling:
                recovery_used = await self._use_recovery_code(user["id"], code)
            if step is None and not recovery_used:
                failure = await self._failure(user["id"], user["username"], "wrong code")
                return failure
            recovery_codes: tuple[str, ...] = ()
            if enrolling:
                recovery_codes = await self._enrol(user["id"], sealed, user["username"])
            await fetch(
                queries.SIGNED_IN,
                user["id"],
                step or 0,
            )
            await fetch(
                queries.END_CHALLENGES,
                user["id"],
            )
            staff = StaffMember(
                user["id"],
                user["username"],
                Role(user["role"]),
                user["language"],
                user["time_zone"],
            )
            token = await self.sessions.open(staff.id)
            await append(
                _audit(
                    Action.STAFF_LOGIN_SUCCEEDED,
                    staff.username,
                    second_factor="recovery_code" if recovery_used else "totp",
                )
            )
        return SignedIn(token, staff, int(self._absolute.total_seconds()), recovery_codes)

    async def _enrol(self, user_id: int, sealed_secret: str, username: str) -> tuple[str, ...]:
        codes = tuple(
            f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODE_COUNT)
        )
        await fetch(
            queries.ENROL_TOTP,
            user_id,
            sealed_secret,
        )
        await fetch(queries.FORGET_RECOVERY_CODES, user_id)
        for recovery_code in codes:
            await fetch(
                queries.ADD_RECOVERY_CODE,
                user_id,
                self._hash(recovery_code, "recovery_code"),
            )
        await append(_audit(Action.STAFF_ENROL_MFA_SUCCEEDED, username, recovery_codes=len(codes)))
        return codes

    async def _use_recovery_code(self, user_id: int, code: str) -> bool:
        used = await fetch(
            queries.USE_RECOVERY_CODE,
            user_id,
            self._hash(code, "recovery_code"),
        )
        return bool(used)

    async def _failure(
        self, user_id: int, username: str, reason: str, *, counted: bool = False
    ) -> Refused:
        """Record a failure (`counted`: the attempt was already added) and lock the account at
        the threshold. The count, the lock and their entries commit together."""
        async with transaction():
            rows = await fetch(
                queries.COUNT_FAILURE,
                user_id,
                self._settings.staff_lockout_failures,
                self._settings.staff_lockout_minutes,
                0 if counted else 1,
            )
            failures = rows[0]["failed_logins"]
            await append(
                _audit(Action.STAFF_LOGIN_FAILED, username, reason=reason, failures=failures)
            )
            locked = failures >= self._settings.staff_lockout_failures
            if locked and rows[0]["lock_started"]:  # this failure locked it, not a concurrent one
                await append(
                    _audit(
                        Action.STAFF_LOCK_OUT_STARTED,
                        username,
                        minutes=self._settings.staff_lockout_minutes,
                    )
                )
        if locked:
            return Refused(self._locked_message(rows[0]["locked_until"]))
        return Refused(_WRONG)

    def _locked_message(self, until: datetime | None) -> Message:
        failures = self._settings.staff_lockout_failures
        if until is None:
            return Message(
                "This account is locked after {failures} failed sign-ins, for now. An admin can "
                "unlock it sooner.",
                failures=failures,
            )
        return Message(
            "This account is locked after {failures} failed sign-ins, until {time} UTC. An admin "
            "can unlock it sooner.",
            failures=failures,
            time=until.strftime("%H:%M"),
        )

    def _hash(self, value: str, purpose: str) -> str:
        return self._cipher.keyed_hash(value, purpose=f"staff.{purpose}")

    # -- sessions (see gateway.staff.sessions) ----------------------------------------------

    async def resolve_session(self, token: str) -> StaffMember | None:
        return await self.sessions.resolve(token)

    async def end_session(self, token: str) -> StaffMember | None:
        """End the session and record it, in one transaction."""
        async with transaction():
            staff = await self.sessions.end(token)
            if staff is not None:
                await append(_audit(Action.STAFF_LOGOUT_SUCCEEDED, staff.username))
        return staff


def _matching_step(secret: str, code: str, *, after: int) -> int | None:
    """The time step whose code this is (the current one or a neighbour, for clock drift),
    provided it is later than the last step used: a code is never accepted twice."""
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(time.time()) // totp.interval
    for step in (current, current - 1, current + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
