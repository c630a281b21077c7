"""Corrections clicked through in Chromium, on each provider's sandbox emulator: team lead A
finds the customer, refunds a payment above the approval threshold from the customer page and
sees it wait; team lead B approves it in the Corrections queue; it runs, and A's page shows it
succeeded. A never gets an Approve button on their own correction.

The correction runs in the job worker, so this uses a server of its own that runs its worker in
process (as tests/browser/test_work_page_in_a_browser.py does).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page, expect

from gateway.core.db.connection import fetch
from gateway.staff.roles import Role
from tests.browser.conftest import Shot, another_desk, server_with_worker
from tests.browser.test_back_office_in_a_browser import new_account, open_fresh, sign_in_first_time
from tests.database import LiveServer

RUN_TIMEOUT_MS = 45_000


@pytest.fixture(scope="module")
def correcting_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with server_with_worker(database_url, tmp_path_factory.mktemp("corrections")) as server:
        yield server


@pytest.fixture
async def lead_b_page(chromium: Browser) -> AsyncIterator[Page]:
    """The second team lead, at another desk (their own cookies)."""
    async with another_desk(chromium) as page:
        yield page


@pytest.mark.parametrize("provider", ["stripe", "zuora"])
async def test_a_refund_above_the_threshold_waits_for_another_lead_then_runs(
    page: Page,
    lead_b_page: Page,
    correcting_server: LiveServer,
    screenshot: Shot,
    provider: str,
) -> None:
    server = correcting_server
    await new_account("lee", Role.TEAM_LEAD)
    await new_account("lou", Role.TEAM_LEAD)

    # Lead A finds the customer by email and refunds its payment in full (EUR 2500.00).
    await sign_in_first_time(page, server, "lee")
    await open_fresh(page, f"{server.base_url}/staff/customers")
    await page.get_by_test_id("customer-query").fill("billing@big-refund.example")
    await page.get_by_test_id("customer-search").click()
    await page.locator(f"[data-testid=customer-result][data-provider={provider}] a").click()
    await expect(page.get_by_test_id("customer-title")).to_contain_text("Big Refund Ltd")
    side = page.get_by_test_id(f"side-{provider}")
    await expect(side.get_by_test_id("payment").first).to_contain_text("€2,500.00")
    await screenshot(page, f"31-customer-page-{provider}")
    refund = side.locator("details[data-testid^=refund-]").first
    await refund.locator("summary").click()
    await refund.locator("[name=reason]").fill("Customer cancelled within the trial")
    await refund.locator("[name=ticket]").fill("zendesk #4242")
    await refund.get_by_test_id("refund-submit").click()
    await expect(page.get_by_test_id("correction-status")).to_have_text("Awaiting approval")
    await expect(page.get_by_test_id("correction-sentence")).to_contain_text(
        "Waiting for a team lead's approval"
    )
    await expect(page.get_by_test_id("decision")).to_contain_text("You asked for this correction")
    assert await page.get_by_test_id("approve").count() == 0
    await screenshot(page, f"32-refund-waits-for-approval-{provider}")
    correction_id = page.url.rsplit("/", 1)[-1]

    # Lead B approves exactly what is shown in the Corrections queue.
    await sign_in_first_time(lead_b_page, server, "lou")
    await open_fresh(lead_b_page, f"{server.base_url}/staff/corrections")
    waiting = lead_b_page.locator(f"[data-testid=correction][data-id='{correction_id}']")
    await expect(waiting.get_by_test_id("payload")).to_contain_text("€2,500.00")
    await expect(waiting.get_by_test_id("requested-by")).to_contain_text("lee")
    await screenshot(lead_b_page, f"33-corrections-queue-{provider}")
    await waiting.get_by_test_id("approve").click()
    await expect(lead_b_page.get_by_test_id("page-notice")).to_contain_text("Approved")

    # Lead A's page follows the correction until it is done at the provider.
    await expect(page.get_by_test_id("correction-status")).to_have_text(
        "Succeeded", timeout=RUN_TIMEOUT_MS
    )
    await expect(page.get_by_test_id("step").first).to_have_attribute("data-status", "succeeded")
    await screenshot(page, f"34-refund-succeeded-{provider}")
    [row] = await fetch(
        "SELECT status, requested_by_staff_id, approved_by_staff_id FROM corrections"
        " WHERE id = $1::uuid",
        correction_id,
    )
    assert row["status"] == "succeeded"
    assert row["approved_by_staff_id"] != row["requested_by_staff_id"]

    # Back on the customer: the payment shows it all refunded, nothing left to refund.
    await page.get_by_text("Open the customer").click()
    paid = page.get_by_test_id(f"side-{provider}").get_by_test_id("payment").first
    await expect(paid.get_by_test_id("refundable")).to_have_text("€0.00")
    await expect(page.get_by_test_id("customer-correction").first).to_have_attribute(
        "data-status", "succeeded"
    )
