"""The back office for a staff member whose browser speaks Arabic: the sign-in pages and the
page shell are right to left, in Arabic, mirrored, with codes kept left to right."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pyotp
from playwright.async_api import Browser, Page, expect

from audit.entry import SYSTEM
from gateway.staff.roles import Role
from gateway.staff.service import create_staff
from tests.database import LiveServer

PASSWORD = "correct horse battery staple"
SHOTS = Path(os.environ.get("BG_SCREENSHOT_DIR", ".artifacts/screenshots"))
# What an untranslated sign-in page or shell would show (product names such as Google
# Authenticator, and the codes a person types, stay as they are).
ENGLISH = (
    "Sign in",
    "Username",
    "Password",
    "Continue",
    "Confirm",
    "Scan",
    "authenticator app",
    "recovery codes",
    "Back office",
    "Preferences",
    "Language",
    "Time zone",
    "Follow my browser",
    "Save",
    "signed in as",
    "SANDBOX",
)


async def arabic_and_right_to_left(page: Page) -> None:
    assert await page.evaluate("document.dir") == "rtl"
    assert await page.evaluate("document.documentElement.lang") == "ar"
    shown = await page.inner_text("body")
    assert [word for word in ENGLISH if re.search(rf"\b{word}\b", shown, re.IGNORECASE)] == []


def shot_path(name: str) -> Path:
    """Beside the other browser tests' screenshots (`make screenshots` refreshes docs/)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / f"{name}.png"


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=shot_path(name), full_page=True)


async def test_a_specialist_whose_browser_speaks_arabic_signs_in_right_to_left(
    chromium: Browser, live_server: LiveServer
) -> None:
    await create_staff("sam", "sam@example.com", Role.SPECIALIST, SYSTEM, PASSWORD)
    context = await chromium.new_context(locale="ar", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        await page.goto(f"{live_server.base_url}/staff/login")
        await expect(page.get_by_role("heading")).to_have_text("تسجيل الدخول إلى المكتب الخلفي")
        await arabic_and_right_to_left(page)
        await shot(page, "signin-ar")

        await page.get_by_label("اسم المستخدم").fill("sam")
        await page.get_by_label("كلمة المرور").fill(PASSWORD)
        await page.get_by_role("button", name="متابعة").click()
        await expect(page.get_by_role("heading")).to_have_text("إعداد تسجيل الدخول بخطوتين")
        await arabic_and_right_to_left(page)
        secret = page.get_by_test_id("totp-secret")
        # The key is a code to type: left to right inside the Arabic sentence.
        assert await secret.evaluate("e => getComputedStyle(e).direction") == "ltr"
        await shot(page, "signin-ar-enrol")

        await page.fill("#code", pyotp.TOTP(await secret.inner_text()).now())
        await page.get_by_role("button", name="التأكيد وتسجيل الدخول").click()
        await expect(page.get_by_test_id("recovery-codes")).to_be_visible()
        await arabic_and_right_to_left(page)
        await shot(page, "signin-ar-recovery-codes")
        await page.get_by_text("لقد حفظتها، متابعة").click()
        # The back office's router adds "#/" once its script has run; either is the home page.
        await expect(page).to_have_url(
            re.compile(re.escape(f"{live_server.base_url}/specialist/") + r"(#/)?$")
        )

        # The shell: every /staff page that extends base.html, here the preferences page.
        await page.goto(f"{live_server.base_url}/staff/preferences")
        await expect(page.get_by_role("heading", name="التفضيلات")).to_be_visible()
        await arabic_and_right_to_left(page)
        selected = page.get_by_test_id("preferences-language")
        await expect(selected).to_have_value("")  # follows the browser until one is picked
        # Mirrored: the way back is on the right, the preferences link on the left.
        back = await page.get_by_role("link", name="المكتب الخلفي").bounding_box()
        preferences = await page.get_by_role("link", name="التفضيلات").bounding_box()
        assert back and preferences and back["x"] > preferences["x"]
        await shot(page, "signin-ar-preferences")

        # Picking French is remembered on the account and in this browser.
        await selected.select_option("fr")
        await page.get_by_test_id("preferences-time-zone").select_option("Africa/Casablanca")
        await page.get_by_test_id("preferences-save").click()
        await expect(page.get_by_test_id("preferences-saved")).to_contain_text("Enregistré.")
        assert await page.evaluate("document.dir") == "ltr"
        cookies = {cookie["name"]: cookie["value"] for cookie in await context.cookies()}
        assert cookies["bg_lang"] == "fr"
    finally:
        await context.close()
