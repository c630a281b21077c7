"""The links to the providers' dashboards clicked in Chromium against the real sandbox server:
a team lead opens a request's work page, clicks "Open in Zuora" and "Open in Stripe", and each
opens in a new tab the emulator's page of that very customer, masked, with no way back to the
back office (no opener)."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import Page, expect

from gateway.staff.roles import Role
from tests.browser.conftest import Shot
from tests.browser.test_back_office_in_a_browser import new_account, sign_in_first_time
from tests.database import LiveServer, auth, issue_test_key
from tests.payloads import iban_change


async def filed(server: LiveServer) -> str:
    body = iban_change()
    body["customer"]["stripe_customer_id"] = "cus_DemoAtelier01"
    key = await issue_test_key()
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        answer = await client.post(
            "/v1/change-requests", json=body, headers=auth(key, uuid.uuid4().hex)
        )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def test_a_lead_opens_the_customer_at_each_emulator_in_a_new_tab(
    page: Page, live_server: LiveServer, screenshot: Shot
) -> None:
    request_id = await filed(live_server)
    await new_account("lee", Role.TEAM_LEAD)
    await sign_in_first_time(page, live_server, "lee")
    await page.goto(f"{live_server.base_url}/staff/requests/{request_id}")
    links = page.get_by_test_id("provider-link")
    await expect(links).to_have_count(2)

    for provider, name in (("zuora", "Open in Zuora"), ("stripe", "Open in Stripe")):
        link = page.locator(f'[data-testid=provider-link][data-provider="{provider}"]')
        await expect(link).to_have_text(name)
        async with page.context.expect_page() as opening:
            await link.click()
        tab = await opening.value
        await tab.wait_for_load_state()
        await expect(tab.get_by_test_id("emulator-title")).to_have_text("Atelier Lumière SARL")
        await expect(tab.locator("body")).to_contain_text("FR****2606")
        assert await tab.evaluate("window.opener === null")
        await screenshot(tab, f"provider-link-{provider}")
        await tab.close()
    await expect(page).to_have_url(f"{live_server.base_url}/staff/requests/{request_id}")
