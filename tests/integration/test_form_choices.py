"""The back office's forms offer choices by label instead of codes to type: fixed ones from the
model, and per staff member the requests they may act on, the active specialists and the
configured contact reasons. Choosing posts the code, end to end through the real app."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar

from gateway.staff.roles import Role
from tests.integration.staff import Staff, enrol
from tests.integration.test_back_office import claim, file, process, status_of
from tests.payloads import iban_change


@pytest.fixture
async def team(app: Litestar, provider_emulators: None) -> dict[str, Staff]:
    return {
        "sam": await enrol(app, "sam", Role.SPECIALIST),
        "sasha": await enrol(app, "sasha", Role.SPECIALIST),
        "lee": await enrol(app, "lee", Role.TEAM_LEAD),
        "lena": await enrol(app, "lena", Role.TEAM_LEAD),
        "ada": await enrol(app, "ada", Role.ADMIN),
    }


async def choices(staff: Staff, slug: str, field: str) -> dict[str, str]:
    """The choices a form's field offers: {code: label}, as the page shows them (English)."""
    answer = await staff.get(f"/{staff.mount}/api/forms/{slug}/schema/")
    assert answer.status_code == 200, answer.text
    schema: dict[str, Any] = answer.json()
    offered = schema["properties"][field]["extra"]["choices"]
    return {choice["value"]: choice["display_name"] for choice in offered.values()}


async def test_fixed_choices_are_labels_carrying_codes(team: dict[str, Staff]) -> None:
    sam, ada = team["sam"], team["ada"]
    assert await choices(sam, "update-status", "step") == {
        "start": "Start work",
        "wait_for_customer": "Wait for the customer",
        "resume": "Resume work",
        "rework": "Take up again",
    }
    kinds = await choices(sam, "claim-next-request", "kind")
    assert kinds == {
        "any": "Any kind",
        "iban_change": "Bank details (IBAN) change",
        "plan_change": "Plan change (upsell)",
    }
    roles = await choices(ada, "create-staff-account", "role")
    assert roles["team_lead"] == "Team lead" and roles["specialist"] == "Billing specialist"
    scopes = await choices(ada, "create-api-key", "scopes")
    assert scopes["fraud:screen"] == "Screen against fraud-stop"


async def test_forms_are_grouped_by_purpose(team: dict[str, Staff]) -> None:
    answer = await team["lee"].get("/lead/api/forms/grouped/")
    grouped = answer.json()["grouped"]
    names = {group: [form["slug"] for form in forms] for group, forms in grouped.items()}
    assert "assign-request" in names["Requests"]
    assert {"approve-request", "reject-request", "amend-resolution"} <= set(names["Review"])
    assert "fraud-stop" in names["Fraud-stop"] and "decrypt-audit-entry" in names["Audit"]
    assert answer.json()["ungrouped"] == []


async def test_a_lead_assigns_by_choosing_a_request_and_a_specialist(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    filed = await file(http, api_key, iban_change(ticket="1001"))
    lee = team["lee"]
    requests = await choices(lee, "assign-request", "request")
    assert list(requests) == [filed["id"]]
    assert requests[filed["id"]].startswith("zendesk #1001 · ")
    assert requests[filed["id"]].endswith(" · New")
    specialists = await choices(lee, "assign-request", "specialist")
    assert specialists == {"sam": "sam", "sasha": "sasha"}

    answer = await lee.form("assign-request", {"request": filed["id"], "specialist": "sasha"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["custom_form_success"] == "zendesk #1001 is assigned to sasha."
    assert await status_of(filed["id"]) == "assigned"
    # sasha's own requests are offered to sasha only
    assert list(await choices(team["sasha"], "update-status", "request")) == [filed["id"]]
    assert await choices(team["sam"], "update-status", "request") == {}

    step = await team["sasha"].form("update-status", {"request": filed["id"], "step": "start"})
    assert step.status_code == 200, step.text
    assert step.json()["custom_form_success"] == "zendesk #1001 is now: In progress."


async def test_the_review_choices_leave_out_the_leads_own_work_and_reasons_are_chosen(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    filed = await file(http, api_key, iban_change(ticket="1002"))
    sam = team["sam"]
    await claim(sam)
    assert await process(sam, filed["id"]) == "applied"
    assert list(await choices(team["lee"], "approve-request", "request")) == [filed["id"]]
    reasons = await choices(sam, "amend-resolution", "contact_reasons")
    code = "Account > Partner > Payout details"
    assert reasons[code] == code

    amended = await sam.form(
        "amend-resolution",
        {
            "request": filed["id"],
            "resolution_note": "Payout account too.",
            "contact_reasons": [code],
        },
    )
    assert amended.status_code == 200, amended.text
    # what the forms accepted before choices, text, is still accepted
    again = await sam.form(
        "amend-resolution",
        {"request": filed["id"], "resolution_note": "Both.", "contact_reasons": f"1, {code}"},
    )
    assert again.status_code == 200, again.text


async def test_refusals_are_sentences_never_pydantic_or_codes(team: dict[str, Staff]) -> None:
    sam = team["sam"]
    missing = await sam.form("update-status", {"step": "start"})
    assert missing.status_code == 422
    assert "Fill in “Request”." in missing.text
    assert "Field required" not in missing.text
    wrong = await sam.form("update-status", {"request": "zendesk #9", "step": "approve"})
    assert wrong.status_code == 422
    assert "Choose one of: Start work, Wait for the customer, Resume work" in wrong.text
    french = await sam.client.post(
        "/specialist/api/forms/update-status/",
        json={"step": "start"},
        headers={"X-CSRFToken": sam.client.cookies["csrftoken"], "Accept-Language": "fr"},
    )
    assert french.status_code == 422 and "Field required" not in french.text
