"""The work page's gate over HTTP (the flows themselves are clicked through in
tests/browser/test_work_page_in_a_browser.py): who may open it, and errors as pages with a
sentence, never JSON."""

from __future__ import annotations

import uuid

import httpx
import pytest
from litestar import Litestar

from admin import work_page
from gateway.change_requests.workflow import WorkflowService
from gateway.core.db.connection import fetch
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import get_settings
from tests.database import auth
from tests.integration.staff import browser, csrf_field, enrol
from tests.payloads import iban_change


async def _filed(http: httpx.AsyncClient, api_key: str) -> str:
    response = await http.post(
        "/v1/change-requests", json=iban_change(), headers=auth(api_key, uuid.uuid4().hex)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_signed_out_goes_to_sign_in_and_an_admin_is_turned_away(
    app: Litestar, http: httpx.AsyncClient, api_key: str
) -> None:
    request_id = await _filed(http, api_key)
    async with browser(app) as anonymous:
        answer = await anonymous.get(f"/staff/requests/{request_id}")
    assert answer.status_code == 302 and answer.headers["location"] == "/staff/login"
    admin = await enrol(app, "ada", Role.ADMIN)
    page = await admin.get(f"/staff/requests/{request_id}")
    assert page.status_code == 403
    assert "for specialists and team leads" in page.text
    assert page.headers["content-type"].startswith("text/html")


async def test_a_specialist_cannot_act_on_another_specialists_request(
    app: Litestar, http: httpx.AsyncClient, api_key: str
) -> None:
    request_id = await _filed(http, api_key)
    sam = await enrol(app, "sam", Role.SPECIALIST)
    sasha = await enrol(app, "sasha", Role.SPECIALIST)
    [row] = await fetch("SELECT id FROM staff_users WHERE username = 'sam'")
    await WorkflowService(get_settings()).claim_next(StaffMember(row["id"], "sam", Role.SPECIALIST))

    own = await sam.get(f"/staff/requests/{request_id}")
    assert own.status_code == 200 and "DE****3000" in own.text
    theirs = await sasha.get(f"/staff/requests/{request_id}")
    assert theirs.status_code == 404 and "DE****3000" not in theirs.text
    # With a valid CSRF token of sasha's own session: still "not found", nothing applied.
    token = csrf_field(await sasha.client.get("/staff/login"))
    refused = await sasha.client.post(
        f"/staff/requests/{request_id}/apply",
        data={"_csrf_token": token, "reason": "Billing > Payment method > Bank details change"},
    )
    assert refused.status_code == 404 and "No such request" in refused.text
    [status] = await fetch(
        "SELECT status FROM change_requests WHERE id = $1", uuid.UUID(request_id)
    )
    assert status["status"] == "in_progress"


async def test_an_action_the_page_does_not_have_is_a_404_with_a_sentence(
    app: Litestar, http: httpx.AsyncClient, api_key: str
) -> None:
    request_id = await _filed(http, api_key)
    sam = await enrol(app, "sam", Role.SPECIALIST)
    [row] = await fetch("SELECT id FROM staff_users WHERE username = 'sam'")
    await WorkflowService(get_settings()).claim_next(StaffMember(row["id"], "sam", Role.SPECIALIST))
    token = csrf_field(await sam.client.get("/staff/login"))
    for address in (
        f"/staff/requests/{request_id}/delete-everything",
        f"/staff/requests/{request_id}/steps/{uuid.uuid4()}/apply",
    ):
        answer = await sam.client.post(address, data={"_csrf_token": token})
        assert answer.status_code == 404 and "no such action" in answer.text


async def test_an_unexpected_error_is_a_page_with_a_sentence(
    app: Litestar, http: httpx.AsyncClient, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = await _filed(http, api_key)
    lee = await enrol(app, "lee", Role.TEAM_LEAD)

    async def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(work_page, "read_work_request", broken)
    page = await lee.get(f"/staff/requests/{request_id}")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Something went wrong on our side" in page.text and "a bug" not in page.text
