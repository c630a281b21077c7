"""A day in the back office, clicked through in Chromium against the real server."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pyotp
from playwright.async_api import Page, expect

from audit.entry import SYSTEM
from gateway.change_requests.workflow import WorkflowService
from gateway.core.db.connection import fetch
from gateway.fulfilment.service import Applier
from gateway.fulfilment.wiring import fulfilment_service
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from gateway.staff.service import create_staff
from settings import get_settings
from tests.browser.conftest import Shot
from tests.database import LiveServer, auth, issue_test_key
from tests.payloads import VALID_IBAN_COMPACT, iban_change

PASSWORD = "correct horse battery staple"
BANK_REASON = "Billing > Payment method > Bank details change"


async def new_account(username: str, role: Role) -> StaffMember:
    account = await create_staff(username, f"{username}@example.com", role, SYSTEM, PASSWORD)
    return StaffMember(account.id, account.username, role)


async def file_request(server: LiveServer, ticket: str) -> dict[str, Any]:
    key = await issue_test_key()
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.post(
            "/v1/change-requests",
            json=iban_change(ticket=ticket),
            headers=auth(key, uuid.uuid4().hex),
        )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def sign_in_first_time(
    page: Page, server: LiveServer, username: str, screenshot: Shot | None = None
) -> None:
    """Password, then enrol the authenticator from the key on the page, then continue."""
    await page.goto(f"{server.base_url}/staff/login")
    if screenshot:
        await screenshot(page, "01-sign-in")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    secret = await page.get_by_test_id("totp-secret").inner_text()
    if screenshot:
        await screenshot(page, "02-enrol-authenticator")
    await page.fill("#code", pyotp.TOTP(secret).now())
    await page.click("button[type=submit]")
    await expect(page.get_by_test_id("recovery-codes")).to_be_visible()
    if screenshot:
        await screenshot(page, "03-recovery-codes")
    await page.get_by_text("I have saved them").click()
    await expect(
        page.get_by_role("heading", name=re.compile("Welcome to Back office"))
    ).to_be_visible()


async def open_fresh(page: Page, url: str) -> None:
    """Load the app at `url` as a pasted link would (a hash change alone keeps the old screen,
    and a form keeps showing its last result)."""
    await page.goto("about:blank")
    await page.goto(url)


async def submit_form(page: Page, server: LiveServer, mount: str, slug: str, **fields: str) -> None:
    await open_fresh(page, f"{server.base_url}/{mount}/#/forms/{slug}")
    for name, value in fields.items():
        await page.fill(f"[name={name}]", value)
    await page.locator("[data-uitest=submit_custom_form_button]").click()


async def status_of(request_id: str) -> str:
    rows = await fetch("SELECT status FROM change_requests WHERE id = $1", uuid.UUID(request_id))
    return str(rows[0]["status"])


async def test_a_specialist_signs_in_with_mfa_claims_and_opens_the_work_page(
    page: Page, live_server: LiveServer, screenshot: Shot
) -> None:
    await new_account("sam", Role.SPECIALIST)
    filed = await file_request(live_server, "1001")

    await sign_in_first_time(page, live_server, "sam", screenshot)
    await screenshot(page, "04-specialist-home")

    await page.goto(f"{live_server.base_url}/specialist/#/forms/claim-next-request")
    await screenshot(page, "05-claim-next-request")
    await page.locator("[data-uitest=submit_custom_form_button]").click()
    await expect(page.locator("#success_message")).to_contain_text("zendesk #1001")
    assert await status_of(filed["id"]) == "in_progress"

    await page.goto(f"{live_server.base_url}/specialist/#/my_queue")
    await expect(page.get_by_text("zendesk #1001")).to_be_visible()
    await screenshot(page, "06-my-queue")

    # The ticket opens the request's work page (tests/browser/test_work_page_in_a_browser.py).
    await page.get_by_text("zendesk #1001").click()
    await expect(page).to_have_url(f"{live_server.base_url}/staff/requests/{filed['id']}")
    for shown in ("DE****3000", "COBADEFFXXX", "Atelier Lumière SARL", "Not checked yet"):
        await expect(page.get_by_text(shown).first).to_be_visible()
    await screenshot(page, "07-request-detail")
    assert VALID_IBAN_COMPACT not in (await page.content()).replace(" ", "")
    # The access log names the back office's paths in full.
    assert '"path": "/specialist/api/forms/claim-next-request' in live_server.log_path.read_text()


async def test_a_lead_triages_and_approves_but_never_their_own_work(
    page: Page, live_server: LiveServer, screenshot: Shot, provider_emulators: None
) -> None:
    sam = await new_account("sam", Role.SPECIALIST)
    lee = await new_account("lee", Role.TEAM_LEAD)
    workflow = WorkflowService(get_settings())
    done_by_sam = await file_request(live_server, "2001")
    amended_by_lee = await file_request(live_server, "2002")
    await file_request(live_server, "2003")  # left unassigned: shows in triage
    fulfilment = fulfilment_service()
    for request in (done_by_sam, amended_by_lee):
        await workflow.claim_next(sam)
        await fulfilment.apply(uuid.UUID(request["id"]), Applier.of_staff(sam))
        [run] = await fetch(
            "SELECT id FROM fulfilment_runs WHERE change_request_id = $1", uuid.UUID(request["id"])
        )
        assert await fulfilment.advance(run["id"]) == "succeeded"
    await workflow.amend(lee, amended_by_lee["id"], "Closed the old mandate too", [BANK_REASON])

    await sign_in_first_time(page, live_server, "lee")
    await page.goto(f"{live_server.base_url}/lead/#/triage")
    await expect(page.get_by_text("zendesk #2003")).to_be_visible()
    await screenshot(page, "09-lead-triage")
    await page.goto(f"{live_server.base_url}/lead/#/review_queue")
    await expect(page.get_by_text("zendesk #2001")).to_be_visible()
    await screenshot(page, "10-lead-review-queue")

    await submit_form(page, live_server, "lead", "approve-request", request="zendesk #2001")
    await expect(page.locator("#success_message")).to_contain_text("is approved")
    await screenshot(page, "11-lead-approved")
    assert await status_of(done_by_sam["id"]) == "approved"

    await submit_form(page, live_server, "lead", "approve-request", request="zendesk #2002")
    await expect(page.get_by_text(re.compile("another team lead must review it"))).to_be_visible()
    await screenshot(page, "12-maker-cannot-approve")
    assert await status_of(amended_by_lee["id"]) == "applied"


async def test_a_specialist_opening_another_specialists_request_by_url_gets_nothing(
    page: Page, live_server: LiveServer, screenshot: Shot
) -> None:
    sam = await new_account("sam", Role.SPECIALIST)
    await new_account("sasha", Role.SPECIALIST)
    theirs = await file_request(live_server, "3001")
    await WorkflowService(get_settings()).claim_next(sam)

    await sign_in_first_time(page, live_server, "sasha")
    answers: list[int] = []
    page.on(
        "response",
        lambda response: answers.append(response.status) if theirs["id"] in response.url else None,
    )
    await open_fresh(page, f"{live_server.base_url}/specialist/#/my_queue/{theirs['id']}")
    await page.wait_for_load_state("networkidle")
    assert answers and set(answers) == {404}, answers
    await screenshot(page, "13-other-specialists-request")
    content = await page.content()
    assert "Atelier" not in content and "DE****3000" not in content
    direct = await page.request.get(
        f"{live_server.base_url}/specialist/api/tables/my_queue/{theirs['id']}/"
    )
    assert direct.status == 404
    await page.goto(f"{live_server.base_url}/specialist/#/my_queue")
    await page.wait_for_load_state("networkidle")
    assert "3001" not in await page.content()


async def test_a_locked_out_account_stays_locked(
    page: Page, live_server: LiveServer, screenshot: Shot
) -> None:
    await new_account("sam", Role.SPECIALIST)
    for _ in range(10):
        await page.goto(f"{live_server.base_url}/staff/login")
        await page.fill("#username", "sam")
        await page.fill("#password", "not the password")
        await page.click("button[type=submit]")
    await expect(page.get_by_role("alert")).to_contain_text("locked")
    await page.goto(f"{live_server.base_url}/staff/login")
    await page.fill("#username", "sam")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.get_by_role("alert")).to_contain_text("locked")
    await screenshot(page, "14-locked-out")
    assert "/staff/login" in page.url


async def test_an_admin_manages_accounts_and_sees_settings_without_secrets(
    page: Page, live_server: LiveServer, screenshot: Shot
) -> None:
    await new_account("ada", Role.ADMIN)
    await sign_in_first_time(page, live_server, "ada")
    await page.goto(f"{live_server.base_url}/admin/#/staff_accounts")
    await expect(page.get_by_text("ada@example.com")).to_be_visible()
    await screenshot(page, "15-admin-staff-accounts")
    await submit_form(
        page,
        live_server,
        "admin",
        "create-staff-account",
        username="nina",
        email="nina@example.com",
        role="specialist",
    )
    await expect(page.locator("#success_message")).to_contain_text("shown once")
    await screenshot(page, "16-admin-created-account")
    await page.goto(f"{live_server.base_url}/staff/settings")
    await expect(page.get_by_text("BG_HASH_KEY")).to_be_visible()
    await screenshot(page, "17-admin-settings")
