"""FRAUD-STOP clicked through in Chromium against the real server: a team lead stops a request's
card and IP from the form, reads what was blocked (masked), and finds it on the Blocklist."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import Page, expect

from gateway.core.db.connection import fetch
from gateway.staff.roles import Role
from tests.browser.conftest import Shot
from tests.browser.test_back_office_in_a_browser import (
    new_account,
    open_fresh,
    sign_in_first_time,
    submit_form,
)
from tests.database import LiveServer, auth, issue_test_key
from tests.payloads import VALID_IBAN_COMPACT, iban_change


async def test_a_lead_fraud_stops_a_request_and_sees_what_was_blocked(
    page: Page, live_server: LiveServer, screenshot: Shot
) -> None:
    await new_account("lee", Role.TEAM_LEAD)
    body = iban_change(ticket="6001")
    body["requester"]["ip"] = "198.51.100.7"
    key = await issue_test_key()
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        filed = await client.post(
            "/v1/change-requests", json=body, headers=auth(key, uuid.uuid4().hex)
        )
        assert filed.status_code == 201, filed.text

        await sign_in_first_time(page, live_server, "lee")
        await open_fresh(page, f"{live_server.base_url}/lead/#/forms/fraud-stop")
        await expect(page.locator("[name=card_fingerprint]")).to_be_visible()
        await screenshot(page, "18-lead-fraud-stop-form")
        await submit_form(
            page,
            live_server,
            "lead",
            "fraud-stop",
            request="zendesk #6001",
            card_fingerprint="fp_Stolen42",
            ip="203.0.113.9",
            reason="Chargeback ring, see the ticket",
        )
        answer = page.locator("#success_message")
        await expect(answer).to_contain_text("FRAUD-STOP for zendesk #6001")
        for shown in ("card fingerprint fp_Stolen42", "IP address 203.0.113.9", "DE****3000"):
            await expect(answer).to_contain_text(shown)
        await screenshot(page, "19-lead-fraud-stopped")
        assert VALID_IBAN_COMPACT not in (await page.content()).replace(" ", "")

        await open_fresh(page, f"{live_server.base_url}/lead/#/blocklist")
        await expect(page.get_by_text("fp_Stolen42")).to_be_visible()
        await expect(page.get_by_text("DE****3000")).to_be_visible()
        # read-only: changes go through the forms, so the table offers no "Add Row"
        await expect(page.locator("a.button", has_text="Add Row")).to_be_hidden()
        await screenshot(page, "20-lead-blocklist")
        [iban_hash] = [
            row["iban_hash"] for row in await fetch("SELECT iban_hash FROM change_requests")
        ]
        content = await page.content()
        assert iban_hash not in content and VALID_IBAN_COMPACT not in content.replace(" ", "")

        screened = await client.post(
            "/v1/fraud/screen",
            json={"card_fingerprint": "fp_Stolen42", "ip": "203.0.113.9"},
            headers=auth(key),
        )
        assert screened.json()["decision"] == "block"
