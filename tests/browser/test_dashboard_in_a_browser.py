"""The team lead's dashboard in Chromium against the real server: in French, with its charts
drawn by the server; a click on the expired bar lands on Triage filtered to the expired
requests; in Arabic the page and its charts read right to left. Screenshots of both go to
BG_SCREENSHOT_DIR as dashboard-fr.png and dashboard-ar.png."""

from __future__ import annotations

from playwright.async_api import Page, expect

from gateway.core.db.connection import fetch
from gateway.staff.roles import Role
from tests.browser.conftest import Shot
from tests.browser.test_back_office_in_a_browser import new_account, open_fresh, sign_in_first_time
from tests.database import LiveServer
from tests.integration.test_dashboard import seed_dashboard, seed_request


async def _seeded() -> None:
    await new_account("lee", Role.TEAM_LEAD)
    await new_account("sam", Role.SPECIALIST)
    await new_account("sasha", Role.SPECIALIST)
    await seed_dashboard()
    # ticket 1004 came back by expiry; 1006 is merely unassigned: both in Triage
    await fetch(
        "UPDATE change_requests SET triage_kind = 'expired', triage_reason = 'Expired: no"
        " action by sam for 3 days', triage_reason_at = now() WHERE ticket = 'zendesk:1004'"
    )
    await seed_request("1006", "new")


async def test_the_dashboard_in_french_links_to_the_filtered_list(
    page: Page, live_server: LiveServer, screenshot: Shot
) -> None:
    await _seeded()
    await sign_in_first_time(page, live_server, "lee")
    await page.context.add_cookies(
        [{"name": "bg_lang", "value": "fr", "url": live_server.base_url}]
    )
    await open_fresh(page, f"{live_server.base_url}/staff/dashboard")
    await expect(page.get_by_role("heading", name="Tableau de bord", exact=True)).to_be_visible()
    await expect(page.locator("svg.chart")).to_have_count(8)
    await expect(page.get_by_text("Éléments expirés par jour")).to_be_visible()
    await screenshot(page, "dashboard-fr")

    await page.locator("[data-testid=chart-expired] a[data-testid=bar-link]").first.click()
    await page.wait_for_url("**/lead/#/triage?expired=true")
    await expect(page.get_by_text("zendesk #1004").first).to_be_visible()
    await expect(page.get_by_text("zendesk #1006")).to_have_count(0)
    await expect(page.get_by_role("heading", name="Tri")).to_be_visible()  # the list, in French
    await screenshot(page, "dashboard-fr-list-behind-a-chart")

    # the same list unfiltered holds both: the filter did the work
    await open_fresh(page, f"{live_server.base_url}/lead/#/triage")
    await expect(page.get_by_text("zendesk #1006").first).to_be_visible()

    await page.context.add_cookies(
        [{"name": "bg_lang", "value": "ar", "url": live_server.base_url}]
    )
    await open_fresh(page, f"{live_server.base_url}/staff/dashboard")
    await expect(page.get_by_test_id("dashboard")).to_have_attribute("dir", "rtl")
    await expect(page.get_by_role("heading", name="لوحة المتابعة", exact=True)).to_be_visible()
    await screenshot(page, "dashboard-ar")
