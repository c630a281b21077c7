"""The back office's day over HTTP: specialists work only their own queue, leads triage and
review, and the maker never checks their own work, however the request is sent."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar

from admin.work_reasons import record_reasons
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.fulfilment.service import Applier
from gateway.fulfilment.wiring import fulfilment_service
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from tests.database import auth
from tests.integration.staff import Staff, enrol
from tests.payloads import VALID_IBAN_COMPACT, iban_change, plan_change

BANK_REASON = "Billing > Payment method > Bank details change"


async def file(http: httpx.AsyncClient, key: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(
        "/v1/change-requests", json=body, headers=auth(key, uuid.uuid4().hex)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def status_of(request_id: str) -> str:
    rows = await fetch("SELECT status FROM change_requests WHERE id = $1", uuid.UUID(request_id))
    return str(rows[0]["status"])


async def claim(specialist: Staff, kind: str = "any") -> str:
    answer = await specialist.form("claim-next-request", {"kind": kind})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["custom_form_success"])


async def member(staff: Staff | str) -> StaffMember:
    username = staff if isinstance(staff, str) else staff.username
    [row] = await fetch("SELECT id, role FROM staff_users WHERE username = $1", username)
    return StaffMember(row["id"], username, Role(row["role"]))


async def process(specialist: Staff, request: str, reasons: str = BANK_REASON) -> str:
    """The specialist applies the request at the providers (as the work page's Apply does) and
    the worker carries it out; the request's status afterwards."""
    staff = await member(specialist)
    fulfilment = fulfilment_service()
    request_id = uuid.UUID(request)
    await fulfilment.apply(request_id, Applier.of_staff(staff))
    await record_reasons(staff, request_id, [reasons])
    [run] = await fetch(
        "SELECT id FROM fulfilment_runs WHERE change_request_id = $1 ORDER BY number DESC LIMIT 1",
        request_id,
    )
    await fulfilment.advance(run["id"])
    return await status_of(request)


@pytest.fixture
async def team(app: Litestar, provider_emulators: None) -> dict[str, Staff]:
    return {
        "sam": await enrol(app, "sam", Role.SPECIALIST),
        "sasha": await enrol(app, "sasha", Role.SPECIALIST),
        "lee": await enrol(app, "lee", Role.TEAM_LEAD),
        "lena": await enrol(app, "lena", Role.TEAM_LEAD),
    }


async def test_a_specialist_claims_processes_and_a_lead_approves(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    filed = await file(http, api_key, iban_change(ticket="1001"))
    sam, lee = team["sam"], team["lee"]

    assert "zendesk #1001" in await claim(sam)
    [row] = await sam.rows("my_queue")
    assert row["status"] == "in_progress"
    assert row["iban"] == "DE****3000" and row["bank_name"] and row["bic"] == "COBADEFFXXX"
    assert row["account_holder"] == "Atelier Lumière SARL"
    assert row["collection_in_flight"] == "not checked yet"

    assert await process(sam, filed["id"]) == "applied"
    reasons = await fetch("SELECT resolution_reasons FROM change_requests")
    assert reasons[0]["resolution_reasons"] == [BANK_REASON]
    [review] = await lee.rows("review_queue")
    assert review["processed_by_readable"] == "sam" and review["ticket"] == "zendesk #1001"

    approved = await lee.form("approve-request", {"request": filed["id"]})
    assert approved.status_code == 200, approved.text
    assert await status_of(filed["id"]) == "approved"
    assert await lee.rows("review_queue") == []
    actions = [
        row["action"]
        for row in await fetch(
            "SELECT action FROM audit_records WHERE target_id = $1 ORDER BY id", filed["id"]
        )
    ]
    workflow = [action for action in actions if action.startswith("change_request.")]
    assert workflow[:3] == [
        "change_request.create.succeeded",
        "change_request.assign.succeeded",
        "change_request.start.succeeded",
    ]
    assert workflow[-1] == "change_request.approve.succeeded"
    assert "fulfilment.step.succeeded" in actions


async def test_a_specialist_sees_only_their_own_requests_through_every_endpoint(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    theirs = await file(http, api_key, iban_change(ticket="2001"))
    mine = await file(http, api_key, plan_change(ticket="2002"))
    sam, sasha = team["sam"], team["sasha"]
    await claim(sam, "iban_change")
    await claim(sasha, "plan_change")

    table = "/specialist/api/tables/my_queue"
    listing = await sasha.rows("my_queue", __page_size=100)
    assert [row["id"] for row in listing] == [mine["id"]]
    count = await sasha.get(f"{table}/count/")
    assert count.json()["count"] == 1
    ids = await sasha.get(f"{table}/ids/", search="2001")
    assert ids.json() == {}
    assert list((await sasha.get(f"{table}/ids/")).json()) == [mine["id"]]
    # Filters cannot widen the view: asking for the other ticket finds nothing.
    assert await sasha.rows("my_queue", ticket_id="zendesk #2001") == []
    # the ticket in any spelling, or only its number
    full_width = "#\uff12\uff10\uff10\uff12"
    for typed in ("intercom:2002", "Intercom #2002", "INTERCOM 2002", "2002", full_width):
        assert [row["id"] for row in await sasha.rows("my_queue", ticket_id=typed)] == [mine["id"]]
    assert await sasha.rows("my_queue", __visible_fields="id,ticket", kind="iban_change") == []
    # Opening the other specialist's request by URL gets nothing.
    by_url = await sasha.get(f"{table}/{theirs['id']}/")
    assert by_url.status_code == 404
    # Acting on it is refused as if it did not exist, and changes nothing.
    with pytest.raises(BillingError) as refused:
        await process(sasha, theirs["id"])
    assert refused.value.code is ErrorCode.NOT_YOUR_REQUEST
    assert "in your queue" in refused.value.detail
    assert (await sasha.get(f"/staff/requests/{theirs['id']}")).status_code == 404
    assert await status_of(theirs["id"]) == "in_progress"
    # Nor can a specialist reach the other mounts, or write through the table API.
    assert (await sasha.get("/lead/api/tables/all_requests/")).status_code == 403
    assert (await sasha.get("/admin/api/tables/staff_accounts/")).status_code == 403
    approve = await sasha.form("approve-request", {"request": mine["id"]}, mount="lead")
    assert approve.status_code == 403
    deleted = await sasha.client.delete(
        f"{table}/{mine['id']}/", headers={"X-CSRFToken": sasha.client.cookies["csrftoken"]}
    )
    assert deleted.status_code in (403, 405)
    assert await status_of(mine["id"]) == "in_progress"


async def test_a_full_iban_never_reaches_a_back_office_screen(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    await file(http, api_key, iban_change(ticket="3001"))
    sam, lee = team["sam"], team["lee"]
    await claim(sam)
    pages = [
        await sam.get("/specialist/api/tables/my_queue/", __page_size=100),
        await lee.get("/lead/api/tables/all_requests/", __page_size=100),
        await lee.get("/lead/api/tables/triage/", __page_size=100),
        await sam.get("/specialist/api/tables/my_queue/schema/"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert VALID_IBAN_COMPACT not in page.text.replace(" ", "")


async def test_the_maker_cannot_approve_their_own_work(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    filed = await file(http, api_key, iban_change(ticket="4001"))
    sam, lee, lena = team["sam"], team["lee"], team["lena"]
    await claim(sam)
    await process(sam, filed["id"])
    assert (await lee.form("approve-request", {"request": filed["id"]})).status_code == 200

    # Lee edits the approved resolution: the approval is void and Lee is now its maker.
    amended = await lee.form(
        "amend-resolution",
        {
            "request": filed["id"],
            "resolution_note": "Also closed the old mandate",
            "contact_reasons": BANK_REASON,
        },
    )
    assert amended.status_code == 200, amended.text
    assert await status_of(filed["id"]) == "applied"
    voided = await fetch(
        "SELECT count(*) AS n FROM audit_records WHERE target_id = $1"
        " AND action = 'change_request.void_approval.succeeded'",
        filed["id"],
    )
    assert voided[0]["n"] == 1

    own = await lee.form("approve-request", {"request": filed["id"]})
    assert own.status_code == 403
    assert "another team lead" in own.json()["detail"]
    assert await status_of(filed["id"]) == "applied"
    refused = await fetch(  # the refused attempt is on record, as every refusal is
        "SELECT actor_id FROM audit_records WHERE target_id = $1"
        " AND action = 'change_request.approve.refused'",
        filed["id"],
    )
    assert [row["actor_id"] for row in refused] == ["lee"]
    own_rejection = await lee.form("reject-request", {"request": filed["id"], "comment": "Redo it"})
    assert own_rejection.status_code == 403
    rejected = await fetch(
        "SELECT 1 FROM audit_records WHERE target_id = $1"
        " AND action = 'change_request.reject.refused'",
        filed["id"],
    )
    assert len(rejected) == 1
    assert (await lena.form("approve-request", {"request": filed["id"]})).status_code == 200
    assert await status_of(filed["id"]) == "approved"


async def test_a_specialist_amending_approved_work_sends_it_back_to_review(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    filed = await file(http, api_key, iban_change(ticket="4501"))
    sam, lee = team["sam"], team["lee"]
    await claim(sam)
    await process(sam, filed["id"])
    await lee.form("approve-request", {"request": filed["id"]})
    amended = await sam.form(
        "amend-resolution",
        {
            "request": filed["id"],
            "resolution_note": "Corrected the note",
            "contact_reasons": BANK_REASON,
        },
    )
    assert amended.status_code == 200, amended.text
    assert await status_of(filed["id"]) == "applied"
    assert [row["id"] for row in await lee.rows("review_queue")] == [filed["id"]]


async def test_a_rejected_request_goes_back_to_its_specialist_with_the_comment(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    filed = await file(http, api_key, iban_change(ticket="5001"))
    sam, lee = team["sam"], team["lee"]
    await claim(sam)
    await process(sam, filed["id"])
    rejected = await lee.form(
        "reject-request", {"request": filed["id"], "comment": "Stripe Connect was not updated"}
    )
    assert rejected.status_code == 200, rejected.text
    [row] = await sam.rows("my_queue")
    assert row["status"] == "rejected"
    assert row["review_comment"] == "Stripe Connect was not updated"
    rework = await sam.form("update-status", {"request": filed["id"], "step": "rework"})
    assert rework.status_code == 200, rework.text
    assert await status_of(filed["id"]) == "in_progress"


async def test_illegal_steps_are_refused_with_a_clear_message(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    filed = await file(http, api_key, iban_change(ticket="6001"))
    lee = team["lee"]
    assigned = await lee.form("assign-request", {"request": filed["id"], "specialist": "sam"})
    assert assigned.status_code == 200, assigned.text
    not_yet = await lee.form("approve-request", {"request": filed["id"]})
    assert "cannot approve" in not_yet.json()["custom_form_error"]
    to_lead = await lee.form("assign-request", {"request": filed["id"], "specialist": "lena"})
    assert "No active specialist" in to_lead.json()["custom_form_error"]
    assert await status_of(filed["id"]) == "assigned"


async def test_triage_flags_unassigned_stale_expired_and_misrouted_requests(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    unassigned = await file(http, api_key, iban_change(ticket="7001"))
    stale = await file(http, api_key, iban_change(ticket="7002"))
    misrouted_body = plan_change(ticket="7003")
    misrouted_body["contact_reasons"] = [BANK_REASON]
    misrouted = await file(http, api_key, misrouted_body)
    fine = await file(http, api_key, iban_change(ticket="7004"))
    sam, lee = team["sam"], team["lee"]
    for request in (stale, misrouted, fine):
        await lee.form("assign-request", {"request": request["id"], "specialist": "sam"})
    await fetch(
        "UPDATE change_requests SET progress_at = now() - interval '2 days',"
        " created_at = now() - interval '5 days' WHERE id = $1",
        uuid.UUID(stale["id"]),
    )
    flagged = {row["id"]: row for row in await lee.rows("triage", __page_size=50)}
    assert set(flagged) == {unassigned["id"], stale["id"], misrouted["id"]}
    assert flagged[unassigned["id"]]["unassigned"] is True
    assert flagged[stale["id"]]["stale"] is True
    # Filed long ago but acted on within the expiry limit: not expired (the lifecycle job
    # returns a request after that long with no action: test_ticket_lifecycle.py).
    assert flagged[stale["id"]]["expired"] is False
    assert flagged[misrouted["id"]]["reasons_mismatch"] is True
    only_stale = await lee.rows("triage", stale="true")
    assert [row["id"] for row in only_stale] == [stale["id"]]
    assert sam  # the specialist's own queue is not the lead's triage


async def test_with_sampled_review_unsampled_work_skips_the_review_queue(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff], monkeypatch: pytest.MonkeyPatch
) -> None:
    fulfilment = fulfilment_service()
    unsampled = fulfilment._settings.model_copy(update={"review_sample_percent": 0})
    monkeypatch.setattr(fulfilment, "_settings", unsampled)
    filed = await file(http, api_key, iban_change(ticket="8001"))
    await claim(team["sam"])
    assert await process(team["sam"], filed["id"]) == "applied"
    assert await team["lee"].rows("review_queue") == []


async def test_notes_and_comments_never_carry_bank_or_card_details(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    filed = await file(http, api_key, iban_change(ticket="9001"))
    sam, lee = team["sam"], team["lee"]
    await claim(sam)
    await process(sam, filed["id"])
    for note in (f"Set {VALID_IBAN_COMPACT} in Zuora", "paid with 4242.4242.4242.4242"):
        refused = await sam.form(
            "amend-resolution",
            {"request": filed["id"], "resolution_note": note, "contact_reasons": "1"},
        )
        assert refused.status_code == 422
        assert "leave it out" in refused.json()["custom_form_error"].lower()
    assert await status_of(filed["id"]) == "applied"
    comment = await lee.form(
        "reject-request", {"request": filed["id"], "comment": f"use {VALID_IBAN_COMPACT}"}
    )
    assert comment.status_code == 422
    assert await status_of(filed["id"]) == "applied"
