"""Notifications clicked through in Chromium: an admin registers a support tool's receiver and
copies the secret shown once; a request filed through the API reaches the receiver signed; a
team lead, at another desk, finds the delivery and resends it, and the receiver gets the same
event again under the same webhook-id.

The deliveries run in the job worker, so this uses a server of its own that runs its worker in
process (as tests/browser/test_corrections_in_a_browser.py does)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from playwright.async_api import Browser, Page, expect

from gateway.staff.roles import Role
from tests.browser.conftest import Shot, another_desk, server_with_worker
from tests.browser.test_back_office_in_a_browser import (
    file_request,
    new_account,
    open_fresh,
    sign_in_first_time,
)
from tests.database import LiveServer
from tests.integration.notification_receiver import Receiver


@pytest.fixture(scope="module")
def notifying_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with server_with_worker(database_url, tmp_path_factory.mktemp("notifications")) as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
async def lead_page(chromium: Browser) -> AsyncIterator[Page]:
    async with another_desk(chromium) as page:
        yield page


async def arrives(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never arrived: {what}"
        await asyncio.sleep(0.2)


async def test_an_admin_registers_a_receiver_and_a_lead_resends_a_delivery_with_the_same_id(
    page: Page,
    lead_page: Page,
    notifying_server: LiveServer,
    receiver: Receiver,
    screenshot: Shot,
) -> None:
    server = notifying_server
    await new_account("ada", Role.ADMIN)
    await new_account("lee", Role.TEAM_LEAD)

    # The admin registers the help desk's receiver and copies the secret, shown this once.
    await sign_in_first_time(page, server, "ada")
    await open_fresh(page, f"{server.base_url}/staff/notifications")
    await expect(page.get_by_test_id("no-endpoints")).to_be_visible()
    form = page.get_by_test_id("register-form")
    await form.locator("#url").fill(receiver.url)
    await form.locator("#description").fill("Zendesk: internal notes")
    await form.locator("input[name=events][value='change_request.*']").check()
    await form.get_by_test_id("register").click()
    await expect(page.get_by_test_id("secret-warning")).to_contain_text("only this once")
    secret = (await page.get_by_test_id("endpoint-secret").inner_text()).strip()
    assert secret.startswith("whsec_")
    await screenshot(page, "35-notification-secret-shown-once")
    receiver.secret = secret
    receiver.start()
    await page.get_by_test_id("secret-kept").click()
    await expect(page.get_by_test_id("endpoint-title")).to_have_text(receiver.url)
    assert secret not in await page.content()  # never shown again

    # A support tool files a request; the receiver hears it, signed.
    filed = await file_request(server, "zendesk #5150")
    await arrives(lambda: bool(receiver.arrivals), "change_request.filed")
    [first] = receiver.arrivals
    assert first.type == "change_request.filed" and first.data["subject"]["id"] == filed["id"]
    assert first.data["ticket"] == "zendesk:5150" and first.data["helpdesk_status"] == "new"
    assert receiver.refused == 0

    # A team lead finds the delivery and resends it: the same event, under the same id.
    await sign_in_first_time(lead_page, server, "lee")
    await open_fresh(lead_page, f"{server.base_url}/staff/notifications")
    await lead_page.locator("[data-testid=endpoint] a").first.click()
    delivery = lead_page.locator("[data-testid=delivery][data-status=delivered]").first
    await delivery.locator("a").first.click()
    await expect(lead_page.get_by_test_id("event-id")).to_have_text(first.webhook_id)
    await expect(lead_page.get_by_test_id("delivery-title")).to_contain_text("zendesk #5150")
    await lead_page.get_by_test_id("resend").click()
    await expect(lead_page.get_by_test_id("page-notice")).to_contain_text("Resent")
    await arrives(lambda: len(receiver.arrivals) == 2, "the resent delivery")
    again = receiver.arrivals[1]
    assert (again.webhook_id, again.body) == (first.webhook_id, first.body)
    await lead_page.reload()
    await expect(lead_page.get_by_text("resent by hand")).to_be_visible()
    await screenshot(lead_page, "36-notification-delivery-resent")
