"""Cheques clicked through in Chromium against the real server and its sandbox emulators, as the
issue's "Done when" asks: an operations member enters a EUR cheque on a Zuora invoice and a USD
cheque on a Stripe invoice; a colleague at another desk closes the EUR batch against the
scanner's matching total and is refused on the USD batch with a wrong one (the difference is
shown); the EUR deposit slip downloads as CSV with every cheque and the right total; a bounced
cheque's invoice is open again at the provider (read through the gateway's customer API); the
report shows it with a chart per currency.

The server runs its job worker in process (tests/browser/conftest.py `server_with_worker`), as
the cheques the provider does not answer at once are finished there.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from audit.entry import SYSTEM
from gateway.staff.roles import Role
from gateway.staff.service import create_staff
from tests.browser.conftest import Shot, another_desk, server_with_worker
from tests.browser.test_back_office_in_a_browser import PASSWORD, open_fresh, sign_in_first_time
from tests.database import LiveServer, auth, issue_test_key


@pytest.fixture(scope="module")
def cheque_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with server_with_worker(database_url, tmp_path_factory.mktemp("cheques")) as server:
        yield server


@pytest.fixture
async def omar_page(chromium: Browser) -> AsyncIterator[Page]:
    """The colleague who scans and closes, at another desk (their own cookies)."""
    async with another_desk(chromium) as page:
        yield page


async def enter_cheque(
    page: Page, server: LiveServer, provider: str, account: str, balance: str, amount: str
) -> str:
    """The entry flow: find the customer, choose the invoice showing `balance`, type the
    cheque; answers the notice the batch page shows."""
    await open_fresh(page, f"{server.base_url}/staff/cheques")
    await page.get_by_test_id("entry-provider").select_option(provider)
    await page.get_by_test_id("entry-account").fill(account)
    await page.get_by_test_id("entry-find").click()
    await expect(page.get_by_test_id("entry-account-name")).to_be_visible()
    invoice = page.locator(f"[data-testid=entry-invoice][data-balance='{balance}']")
    await invoice.locator("input[type=radio]").check()
    await page.get_by_test_id("entry-amount").fill(amount)
    await page.get_by_test_id("entry-reference").fill(f"CHQ {uuid.uuid4().int % 10**7:07d}")
    await page.get_by_test_id("entry-submit").click()
    notice = page.get_by_test_id("page-notice")
    await expect(notice).to_contain_text("is recorded at")
    return await notice.inner_text()


async def invoices_at(server: LiveServer, provider: str, account: str) -> list[dict[str, Any]]:
    """The customer's invoices as the gateway's customer API reads them from the emulator."""
    key = await issue_test_key()
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        answer = await client.get(f"/v1/customers/{provider}/{account}/invoices", headers=auth(key))
    assert answer.status_code == 200, answer.text
    invoices: list[dict[str, Any]] = answer.json()["invoices"]
    return invoices


async def test_cheques_are_entered_batched_closed_deposited_and_bounced(
    page: Page, omar_page: Page, cheque_server: LiveServer, screenshot: Shot
) -> None:
    server = cheque_server
    for username, first, last in (("olga", "Olga", "Petit"), ("omar", "Omar", "Haddad")):
        await create_staff(
            username,
            f"{username}@example.com",
            Role.OPERATIONS,
            SYSTEM,
            PASSWORD,
            first_name=first,
            last_name=last,
        )

    # Olga enters a EUR cheque on a Zuora invoice, another on a second one, and a USD cheque on
    # a Stripe invoice: each numbered with her initials, each invoice paid at the provider.
    await sign_in_first_time(page, server, "olga")
    first = await enter_cheque(page, server, "zuora", "A-CHEQUE-EUR", "120.00 EUR", "120.00")
    assert re.search(r"Cheque OP-\d{8}-0001 .*now shows as paid", first), first
    await enter_cheque(page, server, "zuora", "A-CHEQUE-EUR", "49.00 EUR", "49")
    usd = await enter_cheque(page, server, "stripe", "cus_cheque_usd", "1200.00 USD", "1200.00")
    assert re.search(r"Cheque OP-\d{8}-0003 .*now shows as paid", usd), usd
    await open_fresh(page, f"{server.base_url}/staff/cheques")
    eur_row = page.locator("[data-testid=batch][data-currency=EUR]")
    await expect(eur_row.get_by_test_id("batch-total")).to_have_text("€169.00")
    await expect(eur_row.get_by_test_id("batch-count")).to_have_text("2")
    await page.get_by_test_id("entry-provider").select_option("zuora")
    await page.get_by_test_id("entry-account").fill("A-CHEQUE-GBP")
    await page.get_by_test_id("entry-find").click()
    await expect(page.get_by_test_id("entry-account-name")).to_contain_text("GBP")
    await screenshot(page, "37-cheques")
    await eur_row.locator("a").first.click()
    await expect(page.get_by_test_id("close-not-yours")).to_contain_text("You deposit this batch")

    # Omar scans: the EUR batch matches and closes; the USD total he types is wrong.
    await sign_in_first_time(omar_page, server, "omar")
    await open_fresh(omar_page, f"{server.base_url}/staff/cheques")
    await omar_page.locator("[data-testid=batch][data-currency=USD] a").first.click()
    await omar_page.get_by_test_id("scanner-total").fill("1100.00")
    await omar_page.get_by_test_id("close-submit").click()
    await expect(omar_page.get_by_test_id("page-error")).to_be_visible()
    await expect(omar_page.get_by_test_id("difference")).to_have_text("$100.00")
    await expect(omar_page.get_by_test_id("batch-status")).to_have_text("open")
    await open_fresh(omar_page, f"{server.base_url}/staff/cheques")
    await omar_page.locator("[data-testid=batch][data-currency=EUR] a").first.click()
    await omar_page.get_by_test_id("scanner-total").fill("169.00")
    await omar_page.get_by_test_id("close-submit").click()
    await expect(omar_page.get_by_test_id("page-notice")).to_contain_text("Closed")
    await expect(omar_page.get_by_test_id("batch-status")).to_have_text("closed")
    await expect(omar_page.get_by_test_id("closed-by")).to_contain_text("omar")
    await screenshot(omar_page, "38-cheque-batch")
    batch_page = omar_page.url.split("?")[0]

    # The deposit slip: every cheque of the batch and its total, as CSV and as a printable page.
    async with omar_page.expect_download() as downloading:
        await omar_page.get_by_test_id("slip-csv").click()
    download = await downloading.value
    rows = list(csv.reader(io.StringIO((await download.path()).read_text())))
    numbers = sorted(row[0] for row in rows if row and re.fullmatch(r"OP-\d{8}-\d{4}", row[0]))
    assert [number[-4:] for number in numbers] == ["0001", "0002"]
    assert rows[-1][0] == "total" and "169.00" in rows[-1] and "16900" in rows[-1]
    await open_fresh(omar_page, f"{batch_page}/slip")
    await expect(omar_page.get_by_test_id("slip-total")).to_have_text("€169.00")
    await expect(omar_page.get_by_test_id("slip-cheque")).to_have_count(2)
    assert await omar_page.get_by_test_id("not-closed").count() == 0
    await screenshot(omar_page, "39-cheque-slip")

    # The bank returns the 120.00 EUR cheque: Omar marks it bounced; Zuora's invoice is open.
    await open_fresh(omar_page, batch_page)
    await omar_page.locator("[data-testid=cheque][data-number$='-0001'] a").click()
    await omar_page.get_by_test_id("bounce-reason-input").fill("Returned by the bank: no funds")
    await omar_page.get_by_test_id("bounce-submit").click()
    await expect(omar_page.get_by_test_id("page-notice")).to_contain_text("open again")
    await expect(omar_page.get_by_test_id("cheque-status")).to_have_text("bounced")
    reopened = [
        invoice
        for invoice in await invoices_at(server, "zuora", "A-CHEQUE-EUR")
        if invoice["total"]["amount_minor"] == 12000
    ]
    assert [(i["status"], i["balance"]["amount_minor"]) for i in reopened] == [("open", 12000)]

    # The report: today's EUR and USD, the bounce, and a chart per currency.
    await open_fresh(page, f"{server.base_url}/staff/cheques/report")
    eur = page.locator("[data-testid=report-day][data-currency=EUR]").first
    await expect(eur.get_by_test_id("day-count")).to_have_text("2")
    await expect(eur.get_by_test_id("day-bounced")).to_have_text("1")
    await expect(eur.get_by_test_id("day-closed")).to_have_text("1")
    usd_day = page.locator("[data-testid=report-day][data-currency=USD]").first
    await expect(usd_day.get_by_test_id("day-total")).to_have_text("$1,200.00")
    await expect(usd_day.get_by_test_id("day-open")).to_have_text("1")
    await expect(page.locator("svg[data-testid=chart]")).to_have_count(2)
    await expect(page.get_by_role("img", name=re.compile("Cheques in EUR"))).to_be_visible()
    await screenshot(page, "40-cheque-report")
