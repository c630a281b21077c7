"""The back office in the staff member's language: the sign-in pages follow the browser, the
preferences page stores a language and a time zone on the account and in this browser's
cookies, and the next sign-in brings them back."""

from __future__ import annotations

import re

import httpx
import pytest
from litestar import Litestar

from audit.store import read_payload
from gateway.core.db.connection import fetch
from gateway.i18n.middleware import LANGUAGE_COOKIE, TIME_ZONE_COOKIE
from gateway.staff.roles import Role
from tests.integration.staff import PASSWORD, Staff, browser, csrf_field, enrol, submit_password

ENGLISH = ("Username", "Password", "Continue", "Back office sign-in", "authenticator app")


@pytest.mark.parametrize(
    ("accept", "html", "heading"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.5", '<html lang="fr" dir="ltr">', "Connexion au back-office"),
        ("ar-MA,ar;q=0.9", '<html lang="ar" dir="rtl">', "تسجيل الدخول إلى المكتب الخلفي"),
    ],
)
async def test_the_sign_in_page_speaks_the_browsers_language(
    app: Litestar, accept: str, html: str, heading: str
) -> None:
    async with browser(app) as client:
        page = await client.get("/staff/login", headers={"Accept-Language": accept})
    assert page.status_code == 200
    assert html in page.text and heading in page.text
    assert page.headers["content-language"] == html.split('"')[1]
    assert not [word for word in ENGLISH if re.search(rf"\b{word}\b", page.text)]


async def test_a_refused_password_is_said_in_the_browsers_language(app: Litestar) -> None:
    async with browser(app) as client:
        client.headers["Accept-Language"] = "ar"
        refused = await submit_password(client, "nobody", "not the password")
    assert refused.status_code == 401
    assert "اسم المستخدم أو كلمة المرور أو الرمز غير صحيح." in refused.text


async def save(staff: Staff, **fields: str) -> httpx.Response:
    page = await staff.client.get("/staff/preferences")
    assert page.status_code == 200, page.text
    return await staff.client.post(
        "/staff/preferences", data={"_csrf_token": csrf_field(page), **fields}
    )


async def stored(username: str) -> tuple[str | None, str | None]:
    rows = await fetch("SELECT language, time_zone FROM staff_users WHERE username = $1", username)
    return rows[0]["language"], rows[0]["time_zone"]


def set_cookies(response: httpx.Response) -> dict[str, str]:
    return {
        header.split("=", 1)[0]: header
        for header in response.headers.get_list("set-cookie")
        if header.startswith((LANGUAGE_COOKIE, TIME_ZONE_COOKIE))
    }


async def test_saved_preferences_set_the_cookies_and_the_account_and_the_next_page_speaks_them(
    app: Litestar,
) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    sam.client.headers["Accept-Language"] = "en"
    form = await sam.client.get("/staff/preferences")
    assert "Follow my browser" in form.text and ">العربية</option>" in form.text
    assert ">Français</option>" in form.text and "Africa/Casablanca" in form.text

    saved = await save(sam, language="ar", time_zone="Africa/Casablanca")

    assert saved.status_code == 303 and saved.headers["location"] == "/staff/preferences?saved=1"
    cookies = set_cookies(saved)
    assert cookies[LANGUAGE_COOKIE].startswith("bg_lang=ar;")
    assert "Africa/Casablanca" in cookies[TIME_ZONE_COOKIE]
    for cookie in cookies.values():
        assert (
            "Path=/" in cookie
            and "samesite=strict" in cookie.lower()
            and "Max-Age=31536000" in cookie
        )
    assert await stored("sam") == ("ar", "Africa/Casablanca")
    entries = await fetch(
        "SELECT * FROM audit_records WHERE action = 'staff.update_preferences.succeeded'"
        " AND target_id = 'sam'"
    )
    assert len(entries) == 1
    payload = await read_payload(entries[0])
    assert payload is not None
    assert payload["before"] == {"language": None, "time_zone": None}
    assert payload["after"] == {"language": "ar", "time_zone": "Africa/Casablanca"}

    # The browser still says English; the saved choice wins.
    after = await sam.client.get(saved.headers["location"])
    assert '<html lang="ar" dir="rtl">' in after.text
    assert "تم الحفظ." in after.text and "التفضيلات" in after.text
    assert '<option value="ar" lang="ar" dir="rtl" selected>' in after.text
    assert '<option value="Africa/Casablanca" selected>' in after.text


async def test_following_the_browser_again_deletes_the_language_cookie(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    await save(sam, language="ar", time_zone="Europe/Paris")

    back = await save(sam, language="", time_zone="")

    assert back.status_code == 303
    cookies = set_cookies(back)
    assert "Max-Age=0" in cookies[LANGUAGE_COOKIE] and "Max-Age=0" in cookies[TIME_ZONE_COOKIE]
    assert await stored("sam") == (None, None)
    sam.client.headers["Accept-Language"] = "fr"
    page = await sam.client.get("/staff/preferences")
    assert '<html lang="fr" dir="ltr">' in page.text and "Suivre mon navigateur" in page.text


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({"language": "de", "time_zone": ""}, "English, French or Arabic"),
        ({"language": "fr", "time_zone": "Mars/Olympus_Mons"}, "not one this server knows"),
        ({"language": "fr", "time_zone": "' OR 1=1 --"}, "not one this server knows"),
    ],
)
async def test_an_unknown_language_or_zone_is_refused_and_nothing_is_saved(
    app: Litestar, fields: dict[str, str], sentence: str
) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    sam.client.headers["Accept-Language"] = "en"

    refused = await save(sam, **fields)

    assert refused.status_code == 400
    assert sentence in refused.text and 'data-testid="preferences-error"' in refused.text
    assert set_cookies(refused) == {}
    assert await stored("sam") == (None, None)
    assert not await fetch("SELECT 1 FROM audit_records WHERE action LIKE 'staff.preferences%'")


async def test_a_refusal_is_said_in_the_readers_language(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    sam.client.headers["Accept-Language"] = "fr"
    refused = await save(sam, language="xx", time_zone="")
    assert refused.status_code == 400
    assert "en anglais, en français et en arabe" in refused.text


async def test_the_preferences_page_needs_a_session_and_its_form_token(app: Litestar) -> None:
    async with browser(app) as stranger:
        assert (await stranger.get("/staff/preferences")).headers["location"] == "/staff/login"
    sam = await enrol(app, "sam", Role.SPECIALIST)
    forged = await sam.client.post("/staff/preferences", data={"language": "ar"})
    assert forged.status_code == 403
    assert await stored("sam") == (None, None)


async def test_sign_in_brings_the_stored_preferences_to_a_new_browser_and_sign_out_keeps_them(
    app: Litestar,
) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    await save(sam, language="fr", time_zone="Europe/Paris")

    async with browser(app) as elsewhere:
        await submit_password(elsewhere, "sam", PASSWORD)
        page = await elsewhere.get("/staff/code")
        # A recovery code: the authenticator's current code was used up at enrolment.
        signed_in = await elsewhere.post(
            "/staff/code", data={"_csrf_token": csrf_field(page), "code": sam.recovery_codes[0]}
        )
        assert signed_in.status_code == 303
        cookies = set_cookies(signed_in)
        assert cookies[LANGUAGE_COOKIE].startswith("bg_lang=fr;")
        assert "Europe/Paris" in cookies[TIME_ZONE_COOKIE]
        elsewhere.headers["Accept-Language"] = "ar"
        assert '<html lang="fr"' in (await elsewhere.get("/staff/preferences")).text

        signed_out = await elsewhere.post(
            "/staff/logout", data={"_csrf_token": csrf_field(await elsewhere.get("/staff/login"))}
        )
        assert signed_out.status_code == 303 and set_cookies(signed_out) == {}
        login = await elsewhere.get("/staff/login")
        assert (
            '<html lang="fr" dir="ltr">' in login.text and "Connexion au back-office" in login.text
        )
