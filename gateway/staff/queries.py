"""Every statement on staff members: accounts, sign-in challenges, recovery codes, sessions and
back-office form tokens. A statement that joins staff_users only to show a name stays with its
own table's module."""

# ruff: noqa: S105  (names such as SET_PASSWORD and FORM_TOKEN are statements, not secrets)

# -- accounts (staff_users) -------------------------------------------------------------------
LIST_USERS = """
SELECT username, role, active, totp_secret IS NOT NULL AS mfa,
       COALESCE(locked_until > now(), false) AS locked
  FROM staff_users ORDER BY username
"""
TAKEN = "SELECT 1 FROM staff_users WHERE username = $1 OR email = $2"
INSERT_USER = """
INSERT INTO staff_users (username, password, first_name, last_name, email, active, admin,
                         superuser, role, failed_logins, totp_last_step, created_at)
VALUES ($1, $2, $5, $6, $3, true, true, false, $4, 0, 0, now()) RETURNING id
"""
LOCK_BY_USERNAME = "SELECT id, role, active FROM staff_users WHERE username = $1 FOR UPDATE"
BY_ID_OR_USERNAME = """
SELECT id, username, first_name, last_name, role, active FROM staff_users
 WHERE ($1::bigint IS NOT NULL AND id = $1) OR ($2::text IS NOT NULL AND username = $2)
"""
NAMES_BY_IDS = (
    "SELECT id, username, first_name, last_name FROM staff_users WHERE id = ANY($1::int[])"
)
ACTIVE_WITH_ROLE = """
SELECT username, first_name, last_name FROM staff_users
 WHERE active AND role = $1 ORDER BY lower(username)
"""
ACTIVE_WITH_USERNAME_AND_ROLE = (
    "SELECT id FROM staff_users WHERE username = $1 AND active AND role = $2"
)
SET_ROLE = "UPDATE staff_users SET role = $2 WHERE id = $1"
DEACTIVATE = "UPDATE staff_users SET active = false WHERE id = $1"
SET_PASSWORD = "UPDATE staff_users SET password = $2 WHERE id = $1"
LOCK_PREFERENCES = "SELECT language, time_zone FROM staff_users WHERE id = $1 FOR UPDATE"
SET_PREFERENCES = "UPDATE staff_users SET language = $2, time_zone = $3 WHERE id = $1"

# -- sign-in: password, lockout, second factor ------------------------------------------------
SIGN_IN_USER = """
SELECT id, password, active, locked_until > now() AS locked, locked_until,
       totp_secret IS NOT NULL AS enrolled
  FROM staff_users WHERE username = $1
"""
# A password attempt, counted before the slow hash (see StaffLogin.check_password): none once
# locked ($2 failures), and a lock that has run out starts the count again.
COUNT_ATTEMPT = """
UPDATE staff_users
   SET failed_logins = CASE WHEN locked_until <= now() THEN 1 ELSE failed_logins + 1 END,
       locked_until = CASE WHEN locked_until <= now() THEN NULL ELSE locked_until END
 WHERE id = $1 AND NOT COALESCE(locked_until > now(), false)
   AND (failed_logins < $2 OR locked_until <= now())
RETURNING failed_logins
"""
# The right password: the attempt counted was not a failure.
GIVE_BACK_ATTEMPT = (
    "UPDATE staff_users SET failed_logins = GREATEST(failed_logins - 1, 0) WHERE id = $1"
)
# A failure ($4: 0 if already counted), locking the account at $2 failures for $3 minutes.
COUNT_FAILURE = """
UPDATE staff_users
   SET failed_logins = failed_logins + $4,
       locked_until = CASE WHEN failed_logins + $4 >= $2
                            AND NOT COALESCE(locked_until > now(), false)
                           THEN now() + make_interval(mins => $3) ELSE locked_until END
 WHERE id = $1
RETURNING failed_logins, locked_until,
          locked_until = now() + make_interval(mins => $3) AS lock_started
"""
UNLOCK = "UPDATE staff_users SET failed_logins = 0, locked_until = NULL WHERE id = $1"
SIGNED_IN = """
UPDATE staff_users SET failed_logins = 0, locked_until = NULL, last_login = localtimestamp,
       totp_last_step = GREATEST(totp_last_step, $2)
 WHERE id = $1
"""
ENROL_TOTP = "UPDATE staff_users SET totp_secret = $2, mfa_enrolled_at = now() WHERE id = $1"
RESET_MFA = "UPDATE staff_users SET totp_secret = NULL, mfa_enrolled_at = NULL WHERE id = $1"
# The demo's authenticator secret: enrolled, or pending in a live challenge.
DEMO_TOTP_SECRET = """
SELECT COALESCE(u.totp_secret, (
         SELECT c.pending_totp_secret FROM staff_login_challenges c
          WHERE c.staff_user = u.id AND c.expires_at > now() ORDER BY c.expires_at DESC LIMIT 1
       )) AS secret
  FROM staff_users u WHERE u.username = $1
"""

# -- sign-in challenges (staff_login_challenges) ----------------------------------------------
OPEN_CHALLENGE = """
INSERT INTO staff_login_challenges (token_hash, staff_user, pending_totp_secret, expires_at)
VALUES ($1, $2, $3, now() + make_interval(mins => $4))
"""
CHALLENGE_STATE = """
SELECT c.pending_totp_secret, u.username
  FROM staff_login_challenges c JOIN staff_users u ON u.id = c.staff_user
 WHERE c.token_hash = $1 AND c.expires_at > now() AND u.active
"""
LOCK_CHALLENGE = """
SELECT c.id AS challenge_id, c.pending_totp_secret, u.id, u.username, u.role, u.totp_secret,
       u.totp_last_step, u.locked_until > now() AS locked, u.locked_until, u.active,
       u.language, u.time_zone
  FROM staff_login_challenges c JOIN staff_users u ON u.id = c.staff_user
 WHERE c.token_hash = $1 AND c.expires_at > now() FOR UPDATE OF u
"""
DROP_CHALLENGE = "DELETE FROM staff_login_challenges WHERE id = $1"
# A member's challenges, and every expired one.
END_CHALLENGES = "DELETE FROM staff_login_challenges WHERE staff_user = $1 OR expires_at < now()"

# -- recovery codes (staff_recovery_codes) ----------------------------------------------------
ADD_RECOVERY_CODE = "INSERT INTO staff_recovery_codes (staff_user, code_hash) VALUES ($1, $2)"
USE_RECOVERY_CODE = """
UPDATE staff_recovery_codes SET used_at = now()
 WHERE staff_user = $1 AND code_hash = $2 AND used_at IS NULL RETURNING id
"""
FORGET_RECOVERY_CODES = "DELETE FROM staff_recovery_codes WHERE staff_user = $1"

# -- sessions (staff_sessions, piccolo-api's rows) --------------------------------------------
OPEN_SESSION = """
INSERT INTO staff_sessions (token, user_id, expiry_date, max_expiry_date, created_at,
                            last_seen_at)
VALUES ($1, $2, $3, $4, now(), now())
"""
# A live session's member: active, with an authenticator.
RESOLVE_SESSION = """
SELECT s.id AS session_id, s.expiry_date, s.max_expiry_date, u.id, u.username, u.role,
       u.language, u.time_zone
  FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id
 WHERE s.token = $1 AND u.active AND u.totp_secret IS NOT NULL
"""
DROP_SESSION = "DELETE FROM staff_sessions WHERE id = $1"
SLIDE_SESSION = """
UPDATE staff_sessions
   SET expiry_date = LEAST($2::timestamp, max_expiry_date), last_seen_at = now()
 WHERE id = $1
"""
END_SESSION = """
DELETE FROM staff_sessions s USING staff_users u WHERE s.token = $1 AND u.id = s.user_id
RETURNING u.id, u.username, u.role
"""
END_SESSIONS = "DELETE FROM staff_sessions WHERE user_id = $1 RETURNING 1"

# -- back-office form tokens (staff_form_submissions): a form sent twice is filed once --------
CLAIM_FORM_TOKEN = """
INSERT INTO staff_form_submissions (staff_user_id, token, action) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING RETURNING token
"""
FORM_TOKEN = """
SELECT action, correction_id FROM staff_form_submissions WHERE staff_user_id = $1 AND token = $2
"""
FILED_FORM_TOKEN = """
UPDATE staff_form_submissions SET correction_id = $3 WHERE staff_user_id = $1 AND token = $2
"""
DROP_FORM_TOKEN = "DELETE FROM staff_form_submissions WHERE staff_user_id = $1 AND token = $2"
PURGE_FORM_TOKENS = """
DELETE FROM staff_form_submissions WHERE created_at < now() - make_interval(days => $1)
"""
