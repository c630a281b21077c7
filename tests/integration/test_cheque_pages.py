"""The operations team's cheque pages over HTTP, against both sandbox emulators: a cheque is
entered once per form on a customer's open invoice (amount exact in the currency, a card number
refused and never kept), a batch closes only against the scanner's total and only by a second
person, a bounced cheque's invoice is open again at the provider, the deposit slip and the report
download as CSV, and only operations members and team leads open these pages.
The same flows are clicked through in tests/browser/test_cheques_in_a_browser.py."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar

from adapters.ports import Invoice
from gateway.core.db.connection import fetch
from gateway.providers import Providers, providers_from_settings
from gateway.staff.roles import Role
from settings import get_settings
from tests.integration.staff import Staff, browser, csrf_field, enrol
from tests.integration.test_customer_page import action_form, alert_of

pytestmark = pytest.mark.usefixtures("provider_emulators")

PAGES = "/staff/cheques"


@pytest.fixture
async def adapters(provider_emulators: None) -> AsyncIterator[Providers]:
    built = providers_from_settings(get_settings())
    yield built
    await built.close()


async def operations(app: Litestar, username: str, first: str, last: str) -> Staff:
    """An operations member with a first and last name: their initials number the cheques."""
    member = await enrol(app, username, Role.OPERATIONS)
    await fetch(
        "UPDATE staff_users SET first_name = $2, last_name = $3 WHERE username = $1",
        username,
        first,
        last,
    )
    return member


async def invoice_at(adapters: Providers, provider: str, invoice_id: str) -> Invoice:
    """The invoice as the provider's emulator holds it now."""
    adapter: Any = adapters.get(provider)
    invoice = await adapter.get_invoice(invoice_id)
    assert invoice is not None
    return cast(Invoice, invoice)


def invoices_on(page: httpx.Response) -> dict[str, str]:
    """The entry form's open invoices: balance shown -> the radio's value (the invoice id)."""
    found = re.findall(
        r'data-testid="entry-invoice" data-number="[^"]*" data-balance="([^"]+)">'
        r'<input type="radio" name="invoice" value="([^"]+)"',
        page.text,
    )
    return {balance: html.unescape(value) for balance, value in found}


async def entry_form(
    staff: Staff, provider: str, account: str
) -> tuple[httpx.Response, str, dict[str, str]]:
    page = await staff.get(PAGES, provider=provider, account=account)
    assert page.status_code == 200, page.text
    address, hidden = action_form(page, "record")
    return page, address, hidden


async def enter(
    staff: Staff, provider: str, account: str, balance: str, amount: str, reference: str
) -> httpx.Response:
    """Fill the entry form for the invoice showing `balance` and send it once."""
    page, address, hidden = await entry_form(staff, provider, account)
    typed = {"invoice": invoices_on(page)[balance], "amount": amount, "reference": reference}
    return await staff.client.post(address, data={**hidden, **typed})


def batch_of(answer: httpx.Response) -> uuid.UUID:
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(
        r"/staff/cheques/batches/([0-9a-f-]{36})\?cheque=[0-9a-f-]{36}", answer.headers["location"]
    )
    assert found, answer.headers["location"]
    return uuid.UUID(found.group(1))


def notice_of(page: httpx.Response) -> str:
    found = re.search(r'data-testid="page-notice">([^<]*)<', page.text)
    assert found, page.text
    return html.unescape(found.group(1))


def shown(page: httpx.Response, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">(.*?)</', page.text, re.S)
    assert found, page.text
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def numbers_on(page: httpx.Response) -> list[str]:
    return re.findall(r'data-testid="cheque" data-id="[^"]+" data-number="([^"]+)"', page.text)


async def today() -> str:
    from gateway.cheques.wiring import cheque_service

    return cheque_service().business_date_now().strftime("%Y%m%d")


@pytest.mark.parametrize(
    ("provider", "account", "name", "currency"),
    [
        ("zuora", "A-CHEQUE-EUR", "Cheque Customer EUR SARL", "EUR"),
        ("stripe", "cus_cheque_usd", "Cheque Customer USD Inc", "USD"),
    ],
)
async def test_a_cheque_is_entered_once_on_an_open_invoice_and_the_page_says_what_it_did(
    app: Litestar,
    adapters: Providers,
    provider: str,
    account: str,
    name: str,
    currency: str,
) -> None:
    olga = await operations(app, "olga", "Olga", "Petit")
    page, address, hidden = await entry_form(olga, provider, account)
    assert name in page.text and f"pays in {currency}" in page.text
    balances = invoices_on(page)
    assert set(balances) == {f"120.00 {currency}", f"49.00 {currency}", f"1200.00 {currency}"}

    invoice_id = balances[f"49.00 {currency}"]
    typed = {**hidden, "invoice": invoice_id, "amount": "49", "reference": "0001234"}
    first = await olga.client.post(address, data=typed)
    again = await olga.client.post(address, data=typed)  # a double click sends it twice
    assert again.headers["location"] == first.headers["location"]
    rows = await fetch("SELECT number, amount_minor, status FROM cheques")
    number = f"OP-{await today()}-0001"
    assert [(r["number"], r["amount_minor"], r["status"]) for r in rows] == [
        (number, 4900, "recorded")
    ]

    batch = await olga.client.get(first.headers["location"])
    assert f"Cheque {number}" in notice_of(batch)
    assert "now shows as paid" in notice_of(batch)
    assert shown(batch, "running-count") == "1"
    assert shown(batch, "running-total") == {"EUR": "€", "USD": "$"}[currency] + "49.00"
    assert numbers_on(batch) == [number]
    assert (await invoice_at(adapters, provider, invoice_id)).status == "paid"


async def test_amounts_are_exact_in_the_currency_and_a_card_number_is_never_kept(
    app: Litestar,
) -> None:
    olga = await operations(app, "olga", "Olga", "Petit")
    finer = await enter(olga, "zuora", "A-CHEQUE-EUR", "1200.00 EUR", "12.3456", "0001")
    assert finer.status_code == 400 and "EUR has 2 decimals" in alert_of(finer)
    words = await enter(olga, "zuora", "A-CHEQUE-EUR", "1200.00 EUR", "twelve", "0001")
    assert words.status_code == 400 and "digits only" in alert_of(words)
    above = await enter(olga, "zuora", "A-CHEQUE-EUR", "120.00 EUR", "130.00", "0002")
    assert above.status_code == 422 and "120.00" in alert_of(above)

    card = "4111 1111 1111 1111"
    refused = await enter(olga, "zuora", "A-CHEQUE-EUR", "1200.00 EUR", "10.00", card)
    assert refused.status_code == 422 and "card number" in alert_of(refused)
    assert card not in refused.text and card.replace(" ", "") not in refused.text
    typed_note = await olga.get(PAGES, provider="zuora", account="A-CHEQUE-EUR")
    _, hidden = action_form(typed_note, "record")
    in_note = await olga.client.post(
        f"{PAGES}/record",
        data={
            **hidden,
            "invoice": invoices_on(typed_note)["1200.00 EUR"],
            "amount": "10.00",
            "reference": "0003",
            "note": f"card {card}",
        },
    )
    assert in_note.status_code == 422 and card not in in_note.text
    assert await fetch("SELECT id FROM cheques") == []

    exact = await enter(olga, "zuora", "A-CHEQUE-EUR", "1200.00 EUR", "120.5", "0004")
    batch_of(exact)
    [row] = await fetch("SELECT amount_minor, currency FROM cheques")
    assert (row["amount_minor"], row["currency"]) == (12050, "EUR")


async def test_a_batch_closes_against_the_scanner_total_by_a_second_person_only(
    app: Litestar,
) -> None:
    olga = await operations(app, "olga", "Olga", "Petit")
    omar = await operations(app, "omar", "Omar", "Haddad")
    batch_id = batch_of(await enter(olga, "zuora", "A-CHEQUE-EUR", "120.00 EUR", "120.00", "11"))
    batch_of(await enter(olga, "zuora", "A-CHEQUE-EUR", "49.00 EUR", "49.00", "12"))
    batch_page = f"{PAGES}/batches/{batch_id}"

    own = await olga.get(batch_page)
    assert shown(own, "running-total") == "€169.00"
    assert "You deposit this batch" in own.text and 'data-testid="close-form"' not in own.text
    token = csrf_field(await olga.get(PAGES, provider="zuora", account="A-CHEQUE-EUR"))
    by_depositor = await olga.client.post(
        f"{batch_page}/close", data={"_csrf_token": token, "scanner_total": "169.00"}
    )
    assert by_depositor.status_code == 403, by_depositor.text
    assert "page-error" in by_depositor.text and shown(by_depositor, "batch-status") == "open"

    address, hidden = action_form(await omar.get(batch_page), "close")
    wrong = await omar.client.post(address, data={**hidden, "scanner_total": "160.00"})
    assert wrong.status_code == 409, wrong.text
    assert shown(wrong, "difference") == "€9.00"
    assert shown(wrong, "batch-status") == "open"

    # A cheque entered after that scan is listed when the next scan differs too.
    batch_of(await enter(olga, "zuora", "A-CHEQUE-EUR", "1200.00 EUR", "1200.00", "13"))
    late = f"OP-{await today()}-0003"
    off_by_a_cent = await omar.client.post(address, data={**hidden, "scanner_total": "1369.01"})
    assert off_by_a_cent.status_code == 409
    assert shown(off_by_a_cent, "difference") == "-€0.01"
    since = re.search(r'data-testid="since-scan">(.*?)</table>', off_by_a_cent.text, re.S)
    assert since and re.findall(r"OP-\d{8}-\d{4}", since.group(1)) == [late]

    closed = await omar.client.post(address, data={**hidden, "scanner_total": "1369.00"})
    assert closed.status_code == 303, closed.text
    page = await omar.client.get(closed.headers["location"])
    assert "Closed" in notice_of(page) and shown(page, "batch-status") == "closed"
    assert "omar" in shown(page, "closed-by")

    slip = await omar.get(f"{batch_page}/slip.csv")
    assert slip.status_code == 200 and slip.headers["content-type"].startswith("text/csv")
    assert "attachment" in slip.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(slip.text)))
    listed = [row[0] for row in rows if row and row[0].startswith("OP-")]
    assert sorted(listed) == [f"OP-{await today()}-000{n}" for n in (1, 2, 3)]
    assert ["total", "1369.00", "136900"] in [row[:3] for row in rows]  # the header's
    assert rows[-1][0] == "total" and "1369.00" in rows[-1] and "136900" in rows[-1]
    printable = await omar.get(f"{batch_page}/slip")
    assert printable.status_code == 200 and 'data-testid="not-closed"' not in printable.text
    assert shown(printable, "slip-total") == "€1,369.00"


async def test_a_bounced_cheque_opens_its_invoice_again_and_shows_in_the_report(
    app: Litestar, adapters: Providers
) -> None:
    olga = await operations(app, "olga", "Olga", "Petit")
    lee = await enrol(app, "lee", Role.TEAM_LEAD)
    page, address, hidden = await entry_form(olga, "stripe", "cus_cheque_gbp")
    invoice_id = invoices_on(page)["120.00 GBP"]
    typed = {"invoice": invoice_id, "amount": "120.00", "reference": "777"}
    batch_of(await olga.client.post(address, data={**hidden, **typed}))
    [row] = await fetch("SELECT id FROM cheques")
    cheque_page = f"{PAGES}/{row['id']}"

    form_page = await lee.get(cheque_page)
    assert shown(form_page, "invoice-status") == "paid"
    address, hidden = action_form(form_page, "bounce")
    no_reason = await lee.client.post(address, data=hidden)
    assert no_reason.status_code == 400 and "reason" in alert_of(no_reason)
    bounced = await lee.client.post(address, data={**hidden, "reason": "No funds, says the bank"})
    assert bounced.status_code == 303, bounced.text
    after = await lee.client.get(bounced.headers["location"])
    assert "open again" in notice_of(after)
    assert shown(after, "cheque-status") == "bounced"
    assert "No funds, says the bank" in shown(after, "bounce-reason")
    invoice = await invoice_at(adapters, "stripe", invoice_id)
    assert invoice.status == "open"
    assert invoice.balance.amount_minor == 12000

    report = await lee.get(f"{PAGES}/report")
    assert report.status_code == 200
    day = re.search(
        r'data-testid="report-day"[^>]*data-currency="GBP">(.*?)</tr>', report.text, re.S
    )
    assert day, report.text
    assert 'data-testid="day-bounced">1<' in day.group(1)
    chart = re.search(
        r'<svg class="chart"[^>]*data-currency="GBP"[^>]*>(.*?)</svg>', report.text, re.S
    )
    assert chart and "<title" in chart.group(1) and 'role="img"' in report.text
    exported = await lee.get(f"{PAGES}/report.csv")
    assert exported.status_code == 200 and "GBP" in exported.text


@pytest.mark.parametrize("role", [Role.SPECIALIST, Role.ADMIN])
async def test_specialists_and_admins_are_told_the_pages_are_not_theirs(
    app: Litestar, role: Role
) -> None:
    someone = await enrol(app, "someone", role)
    for path in (PAGES, f"{PAGES}/report", f"{PAGES}/report.csv"):
        refused = await someone.get(path)
        assert refused.status_code == 403, path
        assert "for the operations team and team leads" in refused.text


async def test_a_lead_reads_the_pages_but_enters_no_cheque(app: Litestar) -> None:
    lee = await enrol(app, "lee", Role.TEAM_LEAD)
    page = await lee.get(PAGES)
    assert page.status_code == 200 and 'data-testid="entry-form"' not in page.text
    found = await lee.get(PAGES, provider="zuora", account="A-CHEQUE-EUR")
    assert 'data-testid="entry-form"' not in found.text
    token = lee.client.cookies["bg_staff_csrf"]  # the form's token is the cookie's value
    answer = await lee.client.post(
        f"{PAGES}/record",
        data={"_csrf_token": token, "provider": "zuora", "account_id": "A-CHEQUE-EUR"},
    )
    assert answer.status_code == 403 and "entered by the operations team" in answer.text
    anonymous = await browser(app).get(PAGES)
    assert anonymous.status_code == 302 and anonymous.headers["location"] == "/staff/login"
