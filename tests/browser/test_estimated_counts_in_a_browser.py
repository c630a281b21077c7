"""A list too large to count exactly in time says its count is an estimate, in Chromium against
the real server; a filtered list of a few rows shows its exact count."""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Page, expect

from admin.estimated_counts import EXACT_UP_TO
from gateway.core.db.connection import fetch
from gateway.staff.roles import Role
from tests.browser.conftest import Shot
from tests.browser.test_back_office_in_a_browser import (
    new_account,
    open_fresh,
    sign_in_first_time,
)
from tests.database import LiveServer

# Past the limit by a few hundred rows: the smallest table whose count is estimated.
ROWS = EXACT_UP_TO + 500


async def test_all_requests_says_about_n_estimate(
    page: Page, live_server: LiveServer, screenshot: Shot
) -> None:
    await fetch(
        "INSERT INTO change_requests (kind, status, ticket, client, company_name)"
        " SELECT 'iban_change', 'approved', 'zendesk:' || n, 'browser', 'Shop ' || n"
        " FROM generate_series(1, $1) AS n",
        ROWS,
    )
    await fetch("ANALYZE change_requests")
    await new_account("lee", Role.TEAM_LEAD)
    await sign_in_first_time(page, live_server, "lee")

    await open_fresh(page, f"{live_server.base_url}/lead/#/all_requests")
    shown = page.get_by_text("(estimate)")
    await expect(shown).to_be_visible()
    await expect(shown).to_contain_text("of about ")
    await screenshot(page, "all-requests-estimated-count")

    # The export reads to the last row, whatever the estimate said.
    page.on("dialog", lambda dialog: dialog.accept())  # "more than 10000, continue?"
    await page.locator("a").filter(has_text="Export CSV").click()
    async with page.expect_download(timeout=60_000) as started:
        await page.locator("#overlay").get_by_role("button", name="Download").click()
    saved = Path(await (await started.value).path())
    exported = await asyncio.to_thread(saved.read_text, encoding="utf-8")
    assert len(exported.splitlines()) == ROWS + 1  # the header, then every row

    await page.context.add_cookies(
        [{"name": "bg_lang", "value": "fr", "url": live_server.base_url}]
    )
    await open_fresh(page, f"{live_server.base_url}/lead/#/all_requests")
    await expect(page.get_by_text("(estimation)")).to_contain_text("environ ")

    # A selective filter is counted exactly: no estimate.
    await open_fresh(page, f"{live_server.base_url}/lead/#/all_requests?ticket_id=1234")
    await expect(page.get_by_text("zendesk #1234").first).to_be_visible()
    await expect(page.get_by_text("(estimation)")).to_have_count(0)
