"""The work page clicked through in Chromium: a specialist opens a request from My Queue and
applies it at the sandbox emulators, the customer with a debit in flight is refused, and a team
lead reviews the provider state before and after, never approving their own work.

These tests need the fulfilment jobs to run, so they use a server of their own that runs its job
worker in process, with emulators of its own (a fresh data folder holding the run's keys).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import msgspec
import pytest
from playwright.async_api import Browser, Page, expect

from adapters.stripe.emulator.state import API_KEY as STRIPE_EMULATOR_KEY
from gateway.change_requests.schemas import TicketRef
from gateway.change_requests.workflow import WorkflowService
from gateway.core.db.connection import fetch
from gateway.demo import UPSELL, demo_requests
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import get_settings
from tests.browser.conftest import Shot, another_desk, server_with_worker
from tests.browser.test_back_office_in_a_browser import (
    BANK_REASON,
    new_account,
    open_fresh,
    sign_in_first_time,
    status_of,
    submit_form,
)
from tests.database import LiveServer, auth, issue_test_key
from tests.payloads import VALID_IBAN, VALID_IBAN_COMPACT

APPLY_TIMEOUT_MS = 45_000


@pytest.fixture(scope="module")
def working_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with server_with_worker(database_url, tmp_path_factory.mktemp("work-page")) as server:
        yield server


@pytest.fixture
async def second_page(chromium: Browser) -> AsyncIterator[Page]:
    """Another person at another desk (their own cookies)."""
    async with another_desk(chromium) as page:
        yield page


@pytest.fixture
async def third_page(chromium: Browser) -> AsyncIterator[Page]:
    async with another_desk(chromium) as page:
        yield page


def demo_filing(ticket: str) -> dict[str, Any]:
    """The sandbox demo's request for this ticket, as a support tool sends it."""
    [filing] = [
        f for f in demo_requests() if isinstance(f.ticket, TicketRef) and f.ticket.id == ticket
    ]
    body: dict[str, Any] = msgspec.to_builtins(filing)
    return body


async def file_demo_request(server: LiveServer, ticket: str, **payload: Any) -> str:
    """File the demo's request for `ticket` (with `payload` changed) through the API."""
    body = demo_filing(ticket)
    body["payload"].update(payload)
    key = await issue_test_key()
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.post(
            "/v1/change-requests", json=body, headers=auth(key, uuid.uuid4().hex)
        )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def claim_and_open_from_my_queue(page: Page, server: LiveServer, ticket: str) -> None:
    await submit_form(page, server, "specialist", "claim-next-request")
    await expect(page.locator("#success_message")).to_contain_text(ticket)
    await open_fresh(page, f"{server.base_url}/specialist/#/my_queue")
    await page.get_by_text(ticket, exact=True).click()
    await expect(page.get_by_test_id("work-title")).to_contain_text(ticket)
    assert re.search(r"/staff/requests/[0-9a-f-]{36}$", page.url), page.url


async def stripe_default_last4(server: LiveServer, customer: str) -> str:
    headers = {"Authorization": f"Bearer {STRIPE_EMULATOR_KEY}"}
    async with httpx.AsyncClient(base_url=server.stripe_emulator, headers=headers) as stripe:
        found = (await stripe.get(f"/v1/customers/{customer}")).json()
        method = found["invoice_settings"]["default_payment_method"]
        method_id = method["id"] if isinstance(method, dict) else method
        return str(
            (await stripe.get(f"/v1/payment_methods/{method_id}")).json()["sepa_debit"]["last4"]
        )


async def test_a_specialist_applies_from_my_queue_and_a_lead_who_amended_cannot_approve(
    page: Page,
    second_page: Page,
    third_page: Page,
    working_server: LiveServer,
    screenshot: Shot,
) -> None:
    server = working_server
    await new_account("sam", Role.SPECIALIST)
    lee = await new_account("lee", Role.TEAM_LEAD)
    await new_account("lou", Role.TEAM_LEAD)
    request_id = await file_demo_request(server, "1001")

    await sign_in_first_time(page, server, "sam")
    await claim_and_open_from_my_queue(page, server, "zendesk #1001")
    await page.get_by_test_id("refresh-checks").click()
    await expect(page.get_by_test_id("work-notice")).to_contain_text("read again")
    zuora = page.get_by_test_id("target-zuora_collection")
    await expect(zuora).to_contain_text("FR****2606")  # the SEPA method Apply replaces
    await expect(zuora).to_contain_text("Apply closes it")
    await expect(page.get_by_test_id("target-stripe_customer_debit")).to_be_visible()
    await screenshot(page, "21-work-page-iban-change")
    assert "FR7630006000011234567890189" not in (await page.content()).replace(" ", "")

    await page.get_by_test_id("apply").click()
    status = page.get_by_test_id("request-status")
    await expect(status).to_have_attribute("data-status", "applied", timeout=APPLY_TIMEOUT_MS)
    steps = page.get_by_test_id("step")
    assert await steps.count() >= 4  # per target: create, make default, close the old one
    for index in range(await steps.count()):
        await expect(steps.nth(index)).to_have_attribute("data-status", "succeeded")
    await screenshot(page, "22-work-page-applied")
    assert await status_of(request_id) == "applied"
    assert await stripe_default_last4(server, "cus_DemoAtelier01") == "0189"

    # A team lead opens it from the review queue and sees the provider state before and after.
    await sign_in_first_time(second_page, server, "lee")
    await open_fresh(second_page, f"{server.base_url}/lead/#/review_queue")
    await second_page.get_by_text("zendesk #1001", exact=True).click()
    await expect(second_page.get_by_test_id("review")).to_be_visible()
    closed = second_page.get_by_test_id("step").filter(has_text="Close the old method").first
    await expect(closed.get_by_test_id("before")).to_contain_text("active: yes")
    await expect(closed.get_by_test_id("after")).to_contain_text("active: no")
    made_default = second_page.get_by_test_id("step").filter(has_text="Make it the default").first
    await expect(made_default.get_by_test_id("before")).to_contain_text("default method")
    await screenshot(second_page, "23-lead-sees-before-and-after")

    # lee amends the resolution: lee is now its maker and may not approve it.
    await WorkflowService(get_settings()).amend(
        StaffMember(lee.id, lee.username, Role.TEAM_LEAD),
        request_id,
        "Checked the old mandate is closed at both providers.",
        [BANK_REASON],
    )
    await second_page.reload()
    await second_page.get_by_test_id("approve").click()
    await expect(second_page.get_by_test_id("work-error")).to_contain_text(
        "another team lead must review it"
    )
    await screenshot(second_page, "24-maker-cannot-approve")
    assert await status_of(request_id) == "applied"

    await sign_in_first_time(third_page, server, "lou")
    await open_fresh(third_page, f"{server.base_url}/staff/requests/{request_id}")
    await third_page.get_by_test_id("approve").click()
    await expect(third_page.get_by_test_id("work-notice")).to_contain_text("Approved")
    await expect(third_page.get_by_test_id("request-status")).to_have_attribute(
        "data-status", "approved"
    )
    assert await status_of(request_id) == "approved"


async def test_the_customer_with_a_debit_in_flight_is_refused_and_nothing_is_sent(
    page: Page, working_server: LiveServer, screenshot: Shot
) -> None:
    server = working_server
    await new_account("sam", Role.SPECIALIST)
    request_id = await file_demo_request(server, "1002")

    await sign_in_first_time(page, server, "sam")
    await claim_and_open_from_my_queue(page, server, "zendesk #1002")
    await page.get_by_test_id("refresh-checks").click()
    await expect(page.locator("[data-code=collection_in_flight]")).to_be_visible()

    await page.get_by_test_id("apply").click()
    await expect(page.get_by_test_id("work-error")).to_contain_text("collect")
    await screenshot(page, "25-debit-in-flight-refused")
    assert await status_of(request_id) == "in_progress"
    runs = await fetch(
        "SELECT count(*) AS n FROM fulfilment_runs WHERE change_request_id = $1",
        uuid.UUID(request_id),
    )
    assert runs[0]["n"] == 0


async def test_only_its_specialist_opens_a_request_and_applies_it(
    page: Page, second_page: Page, working_server: LiveServer, screenshot: Shot
) -> None:
    """The Zuora upsell from business to enterprise (A00000103): another specialist gets "not
    found", its own applies it."""
    server = working_server
    await new_account("sam", Role.SPECIALIST)
    await new_account("sasha", Role.SPECIALIST)
    request_id = await file_demo_request(server, "2003")

    await sign_in_first_time(page, server, "sam")
    await claim_and_open_from_my_queue(page, server, "intercom #2003")

    await sign_in_first_time(second_page, server, "sasha")
    answer = await second_page.goto(f"{server.base_url}/staff/requests/{request_id}")
    assert answer is not None and answer.status == 404
    await expect(second_page.get_by_test_id("work-message")).to_contain_text("No such request")
    assert "Estudio" not in await second_page.content()
    refused = await second_page.request.post(
        f"{server.base_url}/staff/requests/{request_id}/apply", form={"reason": UPSELL}
    )
    assert refused.status == 403  # no CSRF token: refused before anything runs
    assert await status_of(request_id) == "in_progress"

    await page.get_by_test_id("refresh-checks").click()
    await expect(page.get_by_test_id("preview")).to_contain_text("enterprise")
    await page.get_by_test_id("apply").click()
    await expect(page.get_by_test_id("request-status")).to_have_attribute(
        "data-status", "applied", timeout=APPLY_TIMEOUT_MS
    )
    await expect(page.get_by_test_id("resolution-reasons")).to_contain_text(UPSELL)
    await screenshot(page, "30-zuora-upsell-applied")


async def test_an_upsell_shows_its_preview_and_waits_for_the_new_contract(
    page: Page, working_server: LiveServer, screenshot: Shot
) -> None:
    """Zuora A00000102 on a contract from 2018: refused until the new contract is recorded,
    then applied on the previewed terms."""
    server = working_server
    await new_account("sam", Role.SPECIALIST)
    request_id = await file_demo_request(server, "2002")

    await sign_in_first_time(page, server, "sam")
    await claim_and_open_from_my_queue(page, server, "intercom #2002")
    await page.get_by_test_id("refresh-checks").click()
    preview = page.get_by_test_id("preview")
    await expect(preview).to_contain_text("solo")
    await expect(preview).to_contain_text("team")
    await expect(page.get_by_test_id("effective-on")).not_to_be_empty()

    await page.get_by_test_id("apply").click()
    await expect(page.get_by_test_id("work-error")).to_contain_text("contract")
    assert await status_of(request_id) == "in_progress"

    await page.fill("#received_on", "2026-01-15")
    await page.select_option("#how", "e-signature")
    await page.get_by_test_id("contract-form").get_by_role("button").click()
    await expect(page.get_by_test_id("contract-return")).to_contain_text("recorded by sam")
    await screenshot(page, "26-upsell-preview-and-contract")

    await page.get_by_test_id("apply").click()
    await expect(page.get_by_test_id("request-status")).to_have_attribute(
        "data-status", "applied", timeout=APPLY_TIMEOUT_MS
    )
    await expect(page.get_by_test_id("step")).to_have_attribute("data-status", "succeeded")
    await screenshot(page, "27-upsell-applied")


async def test_a_payout_account_change_runs_once_a_lead_approves_the_plan(
    page: Page, second_page: Page, working_server: LiveServer, screenshot: Shot
) -> None:
    server = working_server
    await new_account("sam", Role.SPECIALIST)
    await new_account("lee", Role.TEAM_LEAD)
    request_id = await file_demo_request(server, "1003")

    await sign_in_first_time(page, server, "sam")
    await claim_and_open_from_my_queue(page, server, "zendesk #1003")
    await page.get_by_test_id("apply").click()
    await expect(page.get_by_test_id("work-notice")).to_contain_text("team lead's approval")
    await expect(page.get_by_test_id("request-status")).to_have_attribute(
        "data-status", "awaiting_approval"
    )
    await expect(page.get_by_test_id("step")).to_have_count(3)  # add, make default, remove

    await sign_in_first_time(second_page, server, "lee")
    await open_fresh(second_page, f"{server.base_url}/lead/#/all_requests")
    await second_page.get_by_text("zendesk #1003", exact=True).click()
    await expect(second_page.get_by_test_id("approve-plan")).to_be_visible()
    await screenshot(second_page, "28-lead-approves-the-plan")
    await second_page.get_by_test_id("approve-plan").click()
    await expect(second_page.get_by_test_id("request-status")).to_have_attribute(
        "data-status", "applied", timeout=APPLY_TIMEOUT_MS
    )
    assert await status_of(request_id) == "applied"


async def test_a_lead_retries_the_step_that_failed(
    page: Page, second_page: Page, working_server: LiveServer, screenshot: Shot
) -> None:
    """A Stripe upsell whose quantity change Stripe refuses once: the run stops with the
    provider's sentence, and a team lead runs the step again."""
    server = working_server
    await new_account("sam", Role.SPECIALIST)
    await new_account("lee", Role.TEAM_LEAD)
    request_id = await file_demo_request(server, "2004")
    headers = {"Authorization": f"Bearer {STRIPE_EMULATOR_KEY}"}
    async with httpx.AsyncClient(base_url=server.stripe_emulator, headers=headers) as stripe:
        fault = {"operation": "POST /v1/subscription_items/*", "mode": "fail", "times": 1}
        assert (await stripe.post("/_emulator/operation-faults", json=fault)).status_code == 204

        await sign_in_first_time(page, server, "sam")
        await claim_and_open_from_my_queue(page, server, "intercom #2004")
        await page.get_by_test_id("refresh-checks").click()
        await expect(page.get_by_test_id("preview")).to_contain_text("business")
        await page.get_by_test_id("apply").click()
        await expect(page.get_by_test_id("request-status")).to_have_attribute(
            "data-status", "apply_failed", timeout=APPLY_TIMEOUT_MS
        )
        await expect(page.get_by_test_id("step")).to_have_attribute("data-status", "failed")
        assert await status_of(request_id) == "apply_failed"

        await sign_in_first_time(second_page, server, "lee")
        await open_fresh(second_page, f"{server.base_url}/staff/requests/{request_id}")
        await screenshot(second_page, "29-lead-sees-a-failed-step")
        await second_page.get_by_test_id("retry-step").click()
        await expect(second_page.get_by_test_id("request-status")).to_have_attribute(
            "data-status", "applied", timeout=APPLY_TIMEOUT_MS
        )
        subscription = (await stripe.get("/v1/subscriptions/sub_DemoAtelier01")).json()
        assert subscription["items"]["data"][0]["quantity"] == 10  # business: up to 10 seats


async def test_a_refused_plan_goes_back_to_its_specialist_who_takes_it_up_again(
    page: Page, second_page: Page, working_server: LiveServer
) -> None:
    server = working_server
    await new_account("sam", Role.SPECIALIST)
    await new_account("lee", Role.TEAM_LEAD)
    # Another new IBAN than the approved payout test's, whichever of the two runs first.
    request_id = await file_demo_request(server, "1003", iban="DE75512108001245126199")
    await sign_in_first_time(page, server, "sam")
    await claim_and_open_from_my_queue(page, server, "zendesk #1003")
    await page.get_by_test_id("apply").click()
    await expect(page.get_by_test_id("request-status")).to_have_attribute(
        "data-status", "awaiting_approval"
    )

    await sign_in_first_time(second_page, server, "lee")
    await open_fresh(second_page, f"{server.base_url}/staff/requests/{request_id}")
    await second_page.fill("#refuse_comment", f"Pay to {VALID_IBAN} instead")
    await second_page.get_by_test_id("refuse-plan").click()
    await expect(second_page.get_by_test_id("work-error")).to_contain_text("holds an IBAN")
    assert VALID_IBAN_COMPACT not in (await second_page.content()).replace(" ", "")
    assert await status_of(request_id) == "awaiting_approval"
    await second_page.fill("#refuse_comment", "Call the partner back on the number we hold first.")
    await second_page.get_by_test_id("refuse-plan").click()
    await expect(second_page.get_by_test_id("work-notice")).to_contain_text("Plan refused")

    await page.reload()
    await expect(page.get_by_test_id("review-comment")).to_contain_text("Call the partner back")
    await page.get_by_test_id("rework").click()
    await expect(page.get_by_test_id("request-status")).to_have_attribute(
        "data-status", "in_progress"
    )
    await expect(page.get_by_test_id("apply")).to_be_visible()
    assert await status_of(request_id) == "in_progress"
