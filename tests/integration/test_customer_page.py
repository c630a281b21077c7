"""The customer page and the Corrections queue over HTTP, against both sandbox emulators: find
a customer by any of its references, see both providers' side of it masked, file a correction
from a form (once, however often the form is sent), and approve it as a second team lead only.
The same flows are clicked through in tests/browser/test_corrections_in_a_browser.py."""

from __future__ import annotations

import asyncio
import html
import re
import uuid

import httpx
import pytest
from litestar import Litestar

from gateway.core.db.connection import fetch
from gateway.core.sensitive import contains_card_number, contains_iban
from gateway.staff.roles import Role
from tests.integration.staff import Staff, csrf_field, enrol

pytestmark = pytest.mark.usefixtures("provider_emulators")

WRONG_CARD = "Wrong Plan Card SARL"
STRIPE_PAGE = "/staff/customers/stripe/cus_wrong_plan_card"
BIG_REFUND_PAGE = "/staff/customers/stripe/cus_big_refund"


def action_form(page: httpx.Response, action: str) -> tuple[str, dict[str, str]]:
    """The first form posting to `.../{action}`: its address and its hidden fields."""
    for address, body in re.findall(
        r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', page.text, re.S
    ):
        if address.endswith(f"/{action}"):
            hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body)
            return html.unescape(address), {name: html.unescape(value) for name, value in hidden}
    raise AssertionError(f"no {action} form on the page")


async def refund(staff: Staff, customer_page: str, **typed: str) -> httpx.Response:
    page = await staff.get(customer_page)
    assert page.status_code == 200, page.text
    address, hidden = action_form(page, "refund")
    return await staff.client.post(address, data={**hidden, **typed})


def correction_id_of(answer: httpx.Response) -> uuid.UUID:
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/staff/corrections/([0-9a-f-]{36})", answer.headers["location"])
    assert found, answer.headers["location"]
    return uuid.UUID(found.group(1))


@pytest.mark.parametrize(
    ("query", "providers"),
    [
        ("billing@wrongplan-card.example", {"zuora", "stripe"}),
        (WRONG_CARD, {"zuora", "stripe"}),
        ("BO-WRONG-CARD", {"stripe"}),
        ("A-WRONG-CARD", {"zuora"}),
        ("cus_wrong_plan_card", {"stripe"}),
    ],
)
async def test_a_customer_is_found_by_each_of_its_references(
    app: Litestar, query: str, providers: set[str]
) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    page = await sam.get("/staff/customers", q=query)
    assert page.status_code == 200, page.text
    found = set(re.findall(r'data-testid="customer-result" data-provider="(\w+)"', page.text))
    assert providers <= found, page.text
    assert WRONG_CARD in page.text


async def test_an_unknown_customer_is_said_so(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    page = await sam.get("/staff/customers", q="nobody@nowhere.example")
    assert "No customer matches" in page.text


async def test_the_page_shows_both_providers_masked_only(app: Litestar) -> None:
    lee = await enrol(app, "lee", Role.TEAM_LEAD)
    page = await lee.get(STRIPE_PAGE)
    assert page.status_code == 200, page.text
    assert 'data-testid="side-stripe"' in page.text and 'data-testid="side-zuora"' in page.text
    assert "4242" in page.text  # the card, as its last four digits
    assert "€49.00" in page.text  # in the reader's way (English here)
    text = html.unescape(page.text)
    assert not contains_card_number(text) and not contains_iban(text)
    zuora = await lee.get(f"/staff/customers/zuora/{_zuora_id_on(page)}")
    assert zuora.status_code == 200 and 'data-testid="side-stripe"' in zuora.text


def _zuora_id_on(page: httpx.Response) -> str:
    found = re.search(r'action="/staff/customers/zuora/([^/"]+)/', page.text)
    assert found, "the Zuora side offers no form"
    return found.group(1)


async def test_a_refund_form_files_one_correction_however_often_it_is_sent(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    page = await sam.get(STRIPE_PAGE)
    address, hidden = action_form(page, "refund")
    typed = {**hidden, "amount": "10.00", "reason": "Billed on the wrong plan"}
    typed["ticket"] = "zendesk #1"
    first = correction_id_of(await sam.client.post(address, data=typed))
    again = correction_id_of(await sam.client.post(address, data=typed))
    assert again == first
    rows = await fetch(
        "SELECT payload, requested_by_staff_id FROM corrections WHERE id = $1", first
    )
    assert len(rows) == 1 and '"amount_minor": 1000' in rows[0]["payload"]
    shown = await sam.get(f"/staff/corrections/{first}")
    assert shown.status_code == 200
    assert (
        "Refund the payment" in shown.text and "€10.00" in shown.text
    )  # the reader's way of writing amounts


async def test_an_amount_finer_than_the_currency_is_refused_as_a_sentence(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    answer = await refund(sam, STRIPE_PAGE, amount="10.005", reason="Billed on the wrong plan")
    assert answer.status_code == 400
    assert "EUR has 2 decimals" in answer.text and "{" not in alert_of(answer)
    over = await refund(sam, STRIPE_PAGE, amount="50.00", reason="Billed on the wrong plan")
    assert over.status_code == 422 and "At most €49.00 is left" in alert_of(over)


def alert_of(page: httpx.Response) -> str:
    found = re.search(r'data-testid="page-error">([^<]*)<', page.text)
    assert found, page.text
    return html.unescape(found.group(1))


async def test_a_specialist_has_no_fraud_stop_and_no_queue(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    page = await sam.get(STRIPE_PAGE)
    assert 'data-testid="fraud-stop"' not in page.text
    refused = await sam.client.post(
        f"{STRIPE_PAGE}/fraud-stop", data={"_csrf_token": csrf_field(page), "reason": "fraud"}
    )
    assert refused.status_code == 403 and "team leads and admins" in refused.text
    queue = await sam.get("/staff/corrections")
    assert queue.status_code == 403 and "team leads and admins" in queue.text
    lee = await enrol(app, "lee", Role.TEAM_LEAD)
    assert 'data-testid="fraud-stop"' in (await lee.get(STRIPE_PAGE)).text


async def test_a_lead_stops_the_customer_and_the_page_shows_the_block(app: Litestar) -> None:
    lee = await enrol(app, "lee", Role.TEAM_LEAD)
    page = await lee.get(STRIPE_PAGE)
    answer = await lee.client.post(
        f"{STRIPE_PAGE}/fraud-stop",
        data={
            "_csrf_token": csrf_field(page),
            "reason": "Stolen card used",
            "ticket": "zendesk #9",
        },
    )
    assert answer.status_code == 303
    after = await lee.client.get(answer.headers["location"])
    assert "FRAUD-STOP done" in after.text
    assert "The customer cus_wrong_plan_card is blocked." in after.text


async def test_the_maker_cannot_approve_and_another_lead_does(app: Litestar) -> None:
    lee = await enrol(app, "lee", Role.TEAM_LEAD)
    lou = await enrol(app, "lou", Role.TEAM_LEAD)
    filed = correction_id_of(await refund(lee, BIG_REFUND_PAGE, reason="Refund in full"))
    waiting = await lee.get(f"/staff/corrections/{filed}")
    assert "Waiting for a team lead" in waiting.text and "2500.00 EUR" in waiting.text

    queue = await lee.get("/staff/corrections")
    assert str(filed) in queue.text and 'data-testid="own-correction"' in queue.text
    assert 'data-testid="approve"' not in queue.text
    payload_hash = (await fetch("SELECT payload_hash FROM corrections WHERE id = $1", filed))[0][
        "payload_hash"
    ]
    refused = await lee.client.post(
        f"/staff/corrections/{filed}/approve",
        data={"_csrf_token": csrf_field(queue), "payload_hash": payload_hash},
    )
    assert refused.status_code == 403 and "another team lead must approve" in refused.text

    theirs = await lou.get("/staff/corrections")
    _, hidden = action_form(theirs, "approve")
    assert hidden["payload_hash"] == payload_hash  # the hash of exactly what was shown
    approved = await lou.client.post(f"/staff/corrections/{filed}/approve", data=hidden)
    assert approved.status_code == 303 and approved.headers["location"].endswith("=approved")
    [row] = await fetch("SELECT status, approved_by_staff_id FROM corrections WHERE id = $1", filed)
    assert row["status"] in ("running", "succeeded")


async def test_a_form_sent_twice_at_once_files_once(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    page = await sam.get(STRIPE_PAGE)
    address, hidden = action_form(page, "refund")
    typed = {**hidden, "amount": "5.00", "reason": "Double click on Refund"}
    answers = await asyncio.gather(*(sam.client.post(address, data=typed) for _ in range(3)))
    filed = {correction_id_of(answer) for answer in answers}
    assert len(filed) == 1
    rows = await fetch(
        "SELECT count(*) AS n FROM corrections WHERE account_id = 'cus_wrong_plan_card'"
        " AND reason = 'Double click on Refund'"
    )
    assert rows[0]["n"] == 1


@pytest.mark.parametrize(
    ("customer_page", "action", "typed", "operations"),
    [
        (
            STRIPE_PAGE,
            "cancel",
            {"when": "now", "then": "refund_last_payment"},
            ["Cancel the subscription", "Refund the payment"],
        ),
        ("/staff/customers/stripe/cus_wrong_plan_invoiced", "void", {}, ["Void the invoice"]),
    ],
)
async def test_cancel_and_void_forms_file_their_steps(
    app: Litestar,
    customer_page: str,
    action: str,
    typed: dict[str, str],
    operations: list[str],
) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    page = await sam.get(customer_page)
    address, hidden = action_form(page, action)
    answer = await sam.client.post(
        address, data={**hidden, **typed, "reason": "Created on the wrong plan"}
    )
    shown = await sam.get(f"/staff/corrections/{correction_id_of(answer)}")
    steps = re.findall(r'data-testid="step".*?<td>\d+</td><td>([^<]+)</td>', shown.text, re.S)
    assert steps == operations


@pytest.mark.parametrize("provider", ["stripe", "zuora"])
async def test_an_invoice_pdf_opens_from_the_page(app: Litestar, provider: str) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    page = await sam.get(STRIPE_PAGE)
    links = re.findall(r'href="(/staff/customers/(\w+)/[^"]+/invoices/[^"]+/document)"', page.text)
    [link] = [html.unescape(link) for link, at in links if at == provider][:1]
    pdf = await sam.get(link)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


async def test_an_invoice_is_not_shown_through_another_customers_page(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    page = await sam.get(STRIPE_PAGE)
    [link] = re.findall(
        r'href="(/staff/customers/stripe/[^"]+/invoices/[^"]+/document)"', page.text
    )
    other = await sam.get(html.unescape(link).replace("cus_wrong_plan_card", "cus_big_refund"))
    assert other.status_code == 404 and "No such invoice for this customer" in other.text


async def test_a_stripe_receipt_opens_and_the_back_office_links_the_pages(app: Litestar) -> None:
    lee = await enrol(app, "lee", Role.TEAM_LEAD)
    page = await lee.get(STRIPE_PAGE)
    [link] = re.findall(
        r'href="(/staff/customers/stripe/[^"]+/payments/[^"]+/document)"', page.text
    )
    receipt = await lee.get(html.unescape(link))
    assert receipt.status_code == 200 and "sandbox" in receipt.headers["content-security-policy"]
    links = (await lee.get("/lead/api/links/")).json()
    assert links == {
        "Dashboard": "/staff/dashboard",
        "Customers": "/staff/customers",
        "Corrections queue": "/staff/corrections",
        "Notifications": "/staff/notifications",
        "Cheques": "/staff/cheques",
        "Preferences": "/staff/preferences",
    }
    sam = await enrol(app, "sam", Role.SPECIALIST)
    assert (await sam.get("/specialist/api/links/")).json() == {
        "Customers": "/staff/customers",
        "Preferences": "/staff/preferences",
    }
