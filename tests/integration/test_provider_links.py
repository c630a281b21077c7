"""The back office's links to the providers' dashboards, end to end in sandbox: the work page
and the customer page link each reference, and following a link over real HTTP opens the
emulator's page of that very customer, masked (gateway/provider_links.py, the emulators'
state_page.py)."""

from __future__ import annotations

import html
import re
import uuid

import httpx
import pytest
from litestar import Litestar

from gateway.core.sensitive import contains_card_number, contains_iban
from gateway.staff.roles import Role
from tests.database import auth
from tests.integration.staff import Staff, enrol
from tests.payloads import iban_change

pytestmark = pytest.mark.usefixtures("provider_emulators")

LINK = re.compile(
    r'<a href="([^"]+)" target="_blank" rel="noopener noreferrer" data-testid="provider-link"'
    r' data-provider="(\w+)"[^>]*>([^<]+)</a>'
)


def links_on(page: httpx.Response) -> list[tuple[str, str, str]]:
    assert page.status_code == 200, page.text
    return [(html.unescape(url), provider, text) for url, provider, text in LINK.findall(page.text)]


async def followed(url: str) -> str:
    """The linked page as a new tab gets it: over loopback, no cookies of the back office."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as tab:
        answer = await tab.get(url)
    assert answer.status_code == 200, (url, answer.text)
    assert answer.headers["content-type"].startswith("text/html")
    assert "script-src" not in answer.headers["content-security-policy"]  # none may run
    # Each cell on its own, as a reader sees it: joined, a hex id ending "2471" beside a date
    # and an amount can spell a Luhn-valid run of 16 digits by chance.
    cells = [html.unescape(cell).strip() for cell in re.split(r"<[^>]+>", answer.text)]
    shown = [cell for cell in cells if contains_iban(cell) or contains_card_number(cell)]
    assert not shown, shown
    return " ".join(cells)


async def filed_request(http: httpx.AsyncClient, api_key: str, **customer: str) -> str:
    body = iban_change()
    body["customer"].update(customer)
    answer = await http.post(
        "/v1/change-requests", json=body, headers=auth(api_key, uuid.uuid4().hex)
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def lead(app: Litestar) -> Staff:
    return await enrol(app, "lee", Role.TEAM_LEAD)


async def test_the_work_page_opens_each_reference_at_the_emulator_masked(
    app: Litestar, http: httpx.AsyncClient, api_key: str
) -> None:
    request_id = await filed_request(
        http,
        api_key,
        stripe_customer_id="cus_DemoAtelier01",
        stripe_connect_account_id="acct_DemoBrasserie",
    )
    lee = await lead(app)
    links = links_on(await lee.get(f"/staff/requests/{request_id}"))
    assert [(provider, text) for _, provider, text in links] == [
        ("zuora", "Open in Zuora"),
        ("stripe", "Open in Stripe"),
        ("stripe", "Open the Connect account in Stripe"),
    ]
    zuora_page, customer_page, partner_page = [await followed(url) for url, _, _ in links]
    assert "Zuora emulator" in zuora_page and "A00000101" in zuora_page
    assert "Atelier Lumière SARL" in zuora_page and "FR****2606" in zuora_page
    assert "cus_DemoAtelier01" in customer_page and "FR****2606" in customer_page
    assert "Le Petit Port" in partner_page and "FR****2606" in partner_page


async def test_a_reference_not_filed_gives_no_link_and_links_speak_the_readers_language(
    app: Litestar, http: httpx.AsyncClient, api_key: str
) -> None:
    request_id = await filed_request(http, api_key)  # a Zuora account only
    lee = await lead(app)
    lee.client.cookies.set("bg_lang", "fr")
    links = links_on(await lee.get(f"/staff/requests/{request_id}"))
    assert [(provider, text) for _, provider, text in links] == [("zuora", "Ouvrir dans Zuora")]


async def test_the_customer_page_opens_both_sides_at_their_emulators(app: Litestar) -> None:
    lee = await lead(app)
    links = links_on(await lee.get("/staff/customers/stripe/cus_wrong_plan_card"))
    by_provider = {provider: url for url, provider, _ in links}
    assert set(by_provider) == {"stripe", "zuora"}
    assert "/apps/CustomerAccount.do?method=view&id=" in by_provider["zuora"]
    stripe_page = await followed(by_provider["stripe"])
    zuora_page = await followed(by_provider["zuora"])
    for shown in (stripe_page, zuora_page):
        assert "Wrong Plan Card SARL" in shown
    assert "****4242" in stripe_page
