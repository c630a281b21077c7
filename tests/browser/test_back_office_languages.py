"""piccolo-admin's screens in the reader's language, in a real browser: a team lead whose
browser asks for Arabic reads every list, title, column, filter and message in Arabic, right
to left; one asking for French reads French."""

from __future__ import annotations

import re

import pyotp
from playwright.async_api import Browser, Page, expect

from gateway.staff.roles import Role
from tests.browser.conftest import CHROMIUM_FLAGS, Shot  # noqa: F401  (the browser's flags)
from tests.browser.test_back_office_in_a_browser import PASSWORD, file_request, new_account
from tests.database import LiveServer

# English a reader of the Arabic screens must never meet (piccolo-admin's own and ours).
ENGLISH = re.compile(
    r"\b(Triage|All requests|Review queue|Ticket|Status|Kind|Assignee|Created|Filter|Forms|"
    r"Tables|Links|Unassigned|NULL|Iban Change|Bank details|Welcome|Dashboard|Customers)\b"
)


async def sign_in(page: Page, server: LiveServer, username: str) -> None:
    await page.goto(f"{server.base_url}/staff/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    secret = await page.get_by_test_id("totp-secret").inner_text()
    await page.fill("#code", pyotp.TOTP(secret).now())
    await page.click("button[type=submit]")
    await expect(page.get_by_test_id("recovery-codes")).to_be_visible()
    await page.locator("a.button").click()


async def reader(chromium: Browser, locale: str) -> Page:
    context = await chromium.new_context(viewport={"width": 1280, "height": 800}, locale=locale)
    context.set_default_timeout(10_000)
    return await context.new_page()


async def visible_text(page: Page) -> str:
    return await page.locator("body").inner_text()


async def test_a_lead_reads_the_lists_in_arabic_right_to_left(
    chromium: Browser, live_server: LiveServer, screenshot: Shot
) -> None:
    await new_account("lina", Role.TEAM_LEAD)
    await file_request(live_server, "1001")
    page = await reader(chromium, "ar-MA")
    await sign_in(page, live_server, "lina")
    await expect(page.get_by_text("المكتب الخلفي · رئيس الفريق").first).to_be_visible()
    assert await page.evaluate("document.documentElement.dir") == "rtl"

    await page.goto(f"{live_server.base_url}/lead/#/triage")
    await expect(page.get_by_role("heading", name="الفرز")).to_be_visible()
    await expect(page.get_by_text("zendesk #1001")).to_be_visible()
    await screenshot(page, "lead-triage-ar")
    row = await page.locator("tr", has_text="zendesk #1001").inner_text()
    assert "غير مُسند" in row  # why it is here: unassigned
    assert "جديد" in row
    leftover = ENGLISH.findall(await visible_text(page))
    assert not leftover, f"English left on the Arabic triage list: {sorted(set(leftover))}"
    await page.context.close()


async def test_a_lead_reads_the_lists_in_french(
    chromium: Browser, live_server: LiveServer, screenshot: Shot
) -> None:
    await new_account("lea", Role.TEAM_LEAD)
    await file_request(live_server, "1002")
    page = await reader(chromium, "fr-FR")
    await sign_in(page, live_server, "lea")
    await page.goto(f"{live_server.base_url}/lead/#/all_requests?status=new")
    await expect(page.get_by_role("heading", name="Toutes les demandes")).to_be_visible()
    await expect(page.get_by_text("zendesk #1002")).to_be_visible()
    assert await page.evaluate("document.documentElement.lang") == "fr"
    await screenshot(page, "lead-all-requests-fr")
    row = await page.locator("tr", has_text="zendesk #1002").inner_text()
    assert "Nouvelle" in row, row  # its status, by its French name
    await page.context.close()
