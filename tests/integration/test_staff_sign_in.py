"""Staff sign-in and sessions (OWASP ASVS level 2, scenario T11 of reliability-and-security.md):
MFA for everyone, lockout in PostgreSQL, fresh sessions, idle and absolute limits, CSRF,
deactivation, and one mount per role."""

from __future__ import annotations

import asyncio

import pyotp
import pytest
from litestar import Litestar

from audit.entry import SYSTEM
from audit.store import read_payload
from gateway.change_requests.lifecycle import return_open_requests
from gateway.core.db.connection import fetch
from gateway.staff import service as staff_accounts
from gateway.staff.roles import Role
from tests.integration.staff import (
    PASSWORD,
    browser,
    csrf_field,
    enrol,
    submit_code,
    submit_password,
)


async def actions_for(username: str) -> list[str]:
    rows = await fetch(
        "SELECT action FROM audit_records WHERE target_id = $1 ORDER BY id", username
    )
    return [row["action"] for row in rows]


async def test_first_sign_in_enrols_an_authenticator_and_shows_recovery_codes_once(
    app: Litestar,
) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    assert len(sam.recovery_codes) == 10
    home = await sam.client.get("/specialist/")
    assert home.status_code == 200 and '<div id="app">' in home.text
    assert (await sam.get("/specialist/api/user/")).json()["username"] == "sam"
    stored = await fetch("SELECT totp_secret FROM staff_users WHERE username = 'sam'")
    assert stored[0]["totp_secret"].startswith("v1:aes256gcm:")
    assert sam.secret not in stored[0]["totp_secret"]
    assert await actions_for("sam") == [
        "staff.create.succeeded",
        "staff.check_password.succeeded",
        "staff.enrol_mfa.succeeded",
        "staff.login.succeeded",
    ]


async def test_a_password_alone_never_opens_a_session(app: Litestar) -> None:
    await enrol(app, "sam", Role.SPECIALIST)
    client = browser(app)
    answer = await submit_password(client, "sam", PASSWORD)
    assert answer.status_code == 303
    assert "id" not in client.cookies
    assert (await client.get("/specialist/api/user/")).status_code == 401
    # piccolo-admin's own login, which would skip the authenticator, is switched off.
    piccolo_login = await client.post(
        "/specialist/public/login/", json={"username": "sam", "password": PASSWORD}
    )
    assert piccolo_login.status_code == 403
    assert "id" not in client.cookies


async def test_a_code_is_accepted_once_and_a_recovery_code_once(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    used_at_enrolment = pyotp.TOTP(sam.secret).now()
    again = browser(app)
    await submit_password(again, "sam", PASSWORD)
    replay = await submit_code(again, used_at_enrolment)
    assert replay.status_code == 401
    recovery = sam.recovery_codes[0]
    assert (await submit_code(again, recovery)).status_code == 303
    third = browser(app)
    await submit_password(third, "sam", PASSWORD)
    assert (await submit_code(third, recovery)).status_code == 401


async def test_ten_failures_lock_the_account_for_thirty_minutes_in_the_database(
    app: Litestar,
) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    attacker = browser(app)
    for _ in range(10):
        refused = await submit_password(attacker, "sam", "wrong password!")
        assert refused.status_code == 401
    assert "locked" in refused.text
    # The right password and a valid code no longer help, from any process.
    still = await submit_password(browser(app), "sam", PASSWORD)
    assert still.status_code == 401 and "locked" in still.text
    locked = await fetch(
        "SELECT locked_until - now() > interval '29 minutes' AS long FROM staff_users"
        " WHERE username = 'sam'"
    )
    assert locked[0]["long"] is True
    actions = await actions_for("sam")
    assert actions.count("staff.login.failed") == 10
    assert actions.count("staff.lock_out.started") == 1
    assert actions[-1] == "staff.login.refused"
    # An admin lifts it.
    await staff_accounts.unlock("sam", SYSTEM)
    assert (await submit_password(browser(app), "sam", PASSWORD)).status_code == 303
    assert sam


async def test_wrong_codes_count_towards_the_lockout_too(app: Litestar) -> None:
    await enrol(app, "sam", Role.SPECIALIST)
    client = browser(app)
    await submit_password(client, "sam", PASSWORD)
    for _ in range(10):
        await submit_code(client, "000000")
    locked = await fetch("SELECT locked_until > now() AS locked FROM staff_users")
    assert locked[0]["locked"] is True


async def test_sign_in_sets_a_new_session_id_and_sign_out_ends_it(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    planted = browser(app)
    planted.cookies.set("id", "attacker-chosen-session-id", domain="127.0.0.1", path="/")
    await submit_password(planted, "sam", PASSWORD)
    await submit_code(planted, sam.recovery_codes[0])
    assert planted.cookies["id"] != "attacker-chosen-session-id"
    assert (
        await fetch(
            "SELECT count(*) AS n FROM staff_sessions WHERE token = $1",
            "attacker-chosen-session-id",
        )
    )[0]["n"] == 0
    old_token = sam.client.cookies["id"]
    await sam.client.get("/specialist/api/user/")  # piccolo-admin's CSRF cookie
    signed_out = await sam.client.post(
        "/specialist/public/logout/", headers={"X-CSRFToken": sam.client.cookies["csrftoken"]}
    )
    assert signed_out.status_code == 200
    stale = browser(app)
    stale.cookies.set("id", old_token)
    assert (await stale.get("/specialist/api/user/")).status_code == 401
    assert "staff.logout.succeeded" in await actions_for("sam")


@pytest.mark.parametrize("limit", ["expiry_date", "max_expiry_date"])
async def test_idle_and_absolute_limits_end_a_session(app: Litestar, limit: str) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    await fetch(f"UPDATE staff_sessions SET {limit} = localtimestamp - interval '1 second'")
    assert (await sam.get("/specialist/api/tables/my_queue/")).status_code == 401
    assert (await sam.client.get("/specialist/")).headers["location"] == "/staff/login"


async def test_a_session_lasts_fifteen_idle_minutes_and_twelve_hours_at_most(app: Litestar) -> None:
    await enrol(app, "sam", Role.SPECIALIST)
    [session] = await fetch(
        "SELECT expiry_date - localtimestamp AS idle, max_expiry_date - localtimestamp AS total"
        " FROM staff_sessions"
    )
    assert 14 * 60 < session["idle"].total_seconds() <= 15 * 60
    assert 11.9 * 3600 < session["total"].total_seconds() <= 12 * 3600


async def test_deactivation_ends_every_session_at_once(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    second = browser(app)
    await submit_password(second, "sam", PASSWORD)
    await submit_code(second, sam.recovery_codes[0])
    done = await staff_accounts.deactivate("sam", SYSTEM, return_open_requests)
    assert done.sessions_ended == 2
    for client in (sam.client, second):
        assert (await client.get("/specialist/api/user/")).status_code == 401
    assert (await submit_password(browser(app), "sam", PASSWORD)).status_code == 401


async def test_a_role_change_ends_sessions_and_is_audited(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    await staff_accounts.set_role("sam", Role.TEAM_LEAD, SYSTEM)
    assert (await sam.get("/specialist/api/user/")).status_code == 401
    entries = await fetch(
        "SELECT * FROM audit_records"
        " WHERE action = 'staff.change_role.succeeded' AND target_id = 'sam'"
    )
    assert len(entries) == 1 and "team_lead" not in str(entries[0])  # encrypted at rest
    payload = await read_payload(entries[0])
    assert payload is not None and payload["after"] == {"role": "team_lead"}


async def test_each_role_reaches_only_its_own_mount(app: Litestar) -> None:
    staff = {
        Role.SPECIALIST: await enrol(app, "sam", Role.SPECIALIST),
        Role.TEAM_LEAD: await enrol(app, "lee", Role.TEAM_LEAD),
        Role.ADMIN: await enrol(app, "ada", Role.ADMIN),
    }
    mounts = {Role.SPECIALIST: "specialist", Role.TEAM_LEAD: "lead", Role.ADMIN: "admin"}
    for role, member in staff.items():
        for other, mount in mounts.items():
            answer = await member.get(f"/{mount}/api/tables/")
            assert answer.status_code == (200 if other is role else 403), (role, mount)
        # Opening another role's back office sends the browser to its own.
        other_mount = next(m for r, m in mounts.items() if r is not role)
        redirect = await member.client.get(f"/{other_mount}/")
        assert redirect.headers["location"] == f"/{mounts[role]}/"


async def test_state_changes_need_the_csrf_token(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    await sam.client.get("/specialist/api/user/")
    without = await sam.client.post(
        "/specialist/api/forms/claim-next-request/", json={"kind": "any"}
    )
    assert without.status_code == 403
    forged = browser(app)
    await forged.get("/staff/login")
    no_token = await forged.post("/staff/login", data={"username": "sam", "password": PASSWORD})
    assert no_token.status_code == 403
    page = await forged.get("/staff/login")
    assert (
        await forged.post(
            "/staff/login",
            data={"_csrf_token": csrf_field(page), "username": "sam", "password": PASSWORD},
        )
    ).status_code == 303


async def test_piccolo_admins_password_and_mfa_endpoints_are_closed(app: Litestar) -> None:
    ada = await enrol(app, "ada", Role.ADMIN)
    await ada.client.get("/admin/api/user/")
    headers = {"X-CSRFToken": ada.client.cookies["csrftoken"]}
    for path in ("/admin/api/change-password/", "/admin/api/mfa-setup/"):
        answer = await ada.client.post(path, json={}, headers=headers)
        assert answer.status_code == 403, path
    for path in ("/admin/api/docs/", "/admin/public/docs/", "/admin/public/openapi.json"):
        assert (await ada.client.get(path)).status_code == 403, path


async def test_admin_creates_accounts_and_keys_whose_secrets_show_once(app: Litestar) -> None:
    ada = await enrol(app, "ada", Role.ADMIN)
    created = await ada.form(
        "create-staff-account",
        {"username": "nina", "email": "nina@example.com", "role": "specialist"},
    )
    assert created.status_code == 200, created.text
    password = created.json()["custom_form_success"].split("shown once: ")[1].split(" ")[0]
    assert (await submit_password(browser(app), "nina", password)).status_code == 303
    accounts = await ada.rows("staff_accounts")
    assert {row["username"] for row in accounts} == {"ada", "nina"}
    assert all("password" not in row and "totp_secret" not in row for row in accounts)
    key = await ada.form(
        "create-api-key", {"name": "zendesk-app", "scopes": "change-requests:read"}
    )
    secret = key.json()["custom_form_success"].split("copy it now: ")[1]
    assert secret.startswith("bgk_")
    listed = await ada.get("/admin/api/tables/api_key_list/")
    assert secret not in listed.text and "zendesk-app" in listed.text
    settings_page = await ada.client.get("/staff/settings")
    assert settings_page.status_code == 200
    assert "BG_HASH_KEY" in settings_page.text
    assert "<td>set</td>" in settings_page.text or "<td>not set</td>" in settings_page.text


async def test_an_admin_resets_a_forgotten_password(app: Litestar) -> None:
    ada = await enrol(app, "ada", Role.ADMIN)
    sam = await enrol(app, "sam", Role.SPECIALIST)
    reset = await ada.form("reset-password", {"username": "sam"})
    password = reset.json()["custom_form_success"].split("shown once: ")[1]
    assert (await sam.get("/specialist/api/user/")).status_code == 401
    assert (await submit_password(browser(app), "sam", PASSWORD)).status_code == 401
    assert (await submit_password(browser(app), "sam", password)).status_code == 303
    assert "staff.reset_password.succeeded" in await actions_for("sam")


async def test_one_address_trying_many_sign_ins_is_slowed_down(app: Litestar) -> None:
    from gateway.app import create_app
    from settings import get_settings

    strict = create_app(get_settings().model_copy(update={"staff_sign_ins_per_minute": 3}))
    client = browser(strict)
    answers = [(await submit_password(client, f"user{n}", "guess")).status_code for n in range(4)]
    assert answers == [401, 401, 401, 429]
    assert app is not strict


async def test_outside_sandbox_every_back_office_cookie_is_secure(app: Litestar) -> None:
    from gateway.app import create_app
    from settings import get_settings

    await enrol(app, "sam", Role.SPECIALIST)
    from settings.model import Mode

    production = create_app(get_settings().model_copy(update={"mode": Mode.PRODUCTION}))
    client = browser(production)
    login_page = await client.get("/staff/login")
    assert "Secure" in login_page.headers["set-cookie"]
    piccolo_page = await client.get("/specialist/public/meta/")  # sets piccolo's CSRF cookie
    cookies = piccolo_page.headers.get_list("set-cookie")
    assert cookies and all("Secure" in cookie for cookie in cookies)


async def test_guesses_sent_at_once_get_no_more_tries_than_the_lockout_allows(
    app: Litestar,
) -> None:
    await enrol(app, "sam", Role.SPECIALIST)
    clients = [browser(app) for _ in range(25)]
    pages = [await client.get("/staff/login") for client in clients]
    answers = await asyncio.gather(
        *(
            client.post(
                "/staff/login",
                data={"_csrf_token": csrf_field(page), "username": "sam", "password": f"guess{n}"},
            )
            for n, (client, page) in enumerate(zip(clients, pages, strict=True))
        )
    )
    assert all(answer.status_code == 401 for answer in answers)
    actions = await actions_for("sam")
    assert actions.count("staff.login.failed") == 10  # the other 15 were refused unchecked
    assert actions.count("staff.login.refused") == 15
    assert actions.count("staff.lock_out.started") == 1


async def test_while_ten_attempts_are_in_flight_even_the_right_password_waits(
    app: Litestar,
) -> None:
    await enrol(app, "sam", Role.SPECIALIST)
    await fetch("UPDATE staff_users SET failed_logins = 10, locked_until = NULL")
    refused = await submit_password(browser(app), "sam", PASSWORD)
    assert refused.status_code == 401 and "locked" in refused.text


async def test_an_expired_lockout_starts_the_count_again(app: Litestar) -> None:
    await enrol(app, "sam", Role.SPECIALIST)
    await fetch(
        "UPDATE staff_users SET failed_logins = 10, locked_until = now() - interval '1 second'"
    )
    assert (await submit_password(browser(app), "sam", "wrong password!")).status_code == 401
    state = await fetch("SELECT failed_logins, locked_until FROM staff_users")
    assert state[0]["failed_logins"] == 1 and state[0]["locked_until"] is None
    assert (await submit_password(browser(app), "sam", PASSWORD)).status_code == 303


async def test_an_unfinished_enrolment_cannot_replace_the_authenticator(app: Litestar) -> None:
    await staff_accounts.create_staff("sam", "sam@example.com", Role.SPECIALIST, SYSTEM, PASSWORD)
    first, second = browser(app), browser(app)
    shown = []
    for client in (first, second):
        await submit_password(client, "sam", PASSWORD)
        page = await client.get("/staff/code")
        secret = page.text.split('data-testid="totp-secret">')[1].split("<")[0]
        shown.append((secret, csrf_field(page)))
    assert (await submit_code(first, pyotp.TOTP(shown[0][0]).now())).status_code == 200
    # The second sign-in, begun before the first enrolled, no longer counts.
    stale = await second.post(
        "/staff/code", data={"_csrf_token": shown[1][1], "code": pyotp.TOTP(shown[1][0]).now()}
    )
    assert stale.status_code == 303 and stale.headers["location"] == "/staff/login"
    assert "id" not in second.cookies
    sessions = await fetch("SELECT count(*) AS n FROM staff_sessions")
    assert sessions[0]["n"] == 1
    # Even if it were still there, a stale enrolment is refused.
    await submit_password(second, "sam", PASSWORD)
    await fetch(
        "UPDATE staff_login_challenges SET pending_totp_secret = $1",
        (await fetch("SELECT totp_secret FROM staff_users"))[0]["totp_secret"],
    )
    refused = await submit_code(second, pyotp.TOTP(shown[0][0]).now())
    assert refused.status_code == 401 and "out of date" in refused.text
