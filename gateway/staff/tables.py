"""Staff accounts and their sessions. Piccolo's user and session tables are extended, not
replaced, so that piccolo-admin's own session check keeps working beside ours."""

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table
from piccolo_api.session_auth.tables import SessionsBase


class StaffUser(BaseUser, tablename="staff_users"):
    role = Varchar(length=20, index=True)
    # Lockout lives in PostgreSQL so that every process sees the same count.
    failed_logins = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    # The TOTP secret, encrypted with the gateway's key ring; NULL until enrolment.
    totp_secret = Text(null=True, default=None, secret=True)
    # The last TOTP time step accepted: a code is never accepted twice.
    totp_last_step = BigInt(default=0)
    mfa_enrolled_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # The back office's language and time zone; NULL follows the browser / `staff_time_zone`.
    language = Varchar(length=8, null=True, default=None)
    time_zone = Varchar(length=64, null=True, default=None)


class StaffSession(SessionsBase, tablename="staff_sessions"):
    """A session exists only after password and TOTP both passed."""

    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())


class StaffRecoveryCode(Table, tablename="staff_recovery_codes"):
    staff_user = ForeignKey(references=StaffUser, on_delete=OnDelete.cascade, index=True)
    code_hash = Varchar(length=64)  # keyed hash; the code itself is shown once
    used_at = Timestamptz(null=True, default=None)


class StaffLoginChallenge(Table, tablename="staff_login_challenges"):
    """Between a correct password and the TOTP step: short-lived, never a session."""

    token_hash = Varchar(length=64, unique=True)
    staff_user = ForeignKey(references=StaffUser, on_delete=OnDelete.cascade)
    # A provisional secret while the account enrols, encrypted; NULL when already enrolled.
    pending_totp_secret = Text(null=True, default=None, secret=True)
    expires_at = Timestamptz()
