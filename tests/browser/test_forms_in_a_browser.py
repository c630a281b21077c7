"""The back office's forms in Chromium: a lead assigns a request by choosing it and a
specialist from selects, never by typing a ticket or a username."""

from __future__ import annotations

from playwright.async_api import Page, expect

from gateway.staff.roles import Role
from tests.browser.conftest import Shot
from tests.browser.test_back_office_in_a_browser import (
    file_request,
    new_account,
    open_fresh,
    sign_in_first_time,
    status_of,
)
from tests.database import LiveServer


async def test_a_lead_assigns_a_request_by_choosing_it_and_a_specialist(
    page: Page, live_server: LiveServer, screenshot: Shot
) -> None:
    await new_account("sam", Role.SPECIALIST)
    await new_account("lee", Role.TEAM_LEAD)
    filed = await file_request(live_server, "1001")
    await sign_in_first_time(page, live_server, "lee")

    await open_fresh(page, f"{live_server.base_url}/lead/#/forms/assign-request")
    request = page.locator("select[data-field=request]")
    specialist = page.locator("select[data-field=specialist]")
    await expect(request).to_be_visible()
    await expect(request.locator("option", has_text="zendesk #1001")).to_have_count(1)
    await expect(specialist.locator("option", has_text="sam")).to_have_count(1)
    assert await page.locator("input[name=request]").is_hidden()

    await request.select_option(
        label=await request.locator("option", has_text="zendesk #1001").inner_text()
    )
    await specialist.select_option("sam")
    await screenshot(page, "forms-assign-by-choice")
    await page.locator("[data-uitest=submit_custom_form_button]").click()
    await expect(page.locator("#success_message")).to_have_text("zendesk #1001 is assigned to sam.")
    assert await status_of(filed["id"]) == "assigned"
