"""The ticket lifecycle (issue 16, item 3): a request left alone comes back to Triage
unassigned, a silent customer is put before the lead, a deactivated specialist's requests come
back at once, and the lead sees why each item is in Triage."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar

from audit.entry import SYSTEM
from gateway.change_requests.lifecycle import (
    expire_idle_requests,
    mark_silent_customers,
    return_open_requests,
    run_lifecycle,
)
from gateway.change_requests.states import Transition
from gateway.change_requests.workflow import WorkflowService
from gateway.core.db.connection import fetch
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from gateway.staff.service import deactivate
from settings import get_settings
from tests.integration.staff import Staff, csrf_field, enrol
from tests.integration.test_back_office import file, member
from tests.payloads import iban_change


@pytest.fixture
async def team(app: Litestar) -> dict[str, Staff]:
    return {
        "sam": await enrol(app, "sam", Role.SPECIALIST),
        "sasha": await enrol(app, "sasha", Role.SPECIALIST),
        "lee": await enrol(app, "lee", Role.TEAM_LEAD),
    }


async def _request(request_id: str) -> dict[str, Any]:
    [row] = await fetch(
        "SELECT r.status, s.username AS assignee, r.triage_reason, r.triage_kind,"
        " r.cancellation_reason FROM change_requests r"
        " LEFT JOIN staff_users s ON s.id = r.assignee_id WHERE r.id = $1",
        uuid.UUID(request_id),
    )
    return dict(row)


async def _idle(request_id: str, days: int) -> None:
    """Nobody acted on the request for `days` days."""
    await fetch(
        "UPDATE change_requests SET progress_at = now() - make_interval(days => $2,"
        " hours => 1) WHERE id = $1",
        uuid.UUID(request_id),
        days,
    )


async def _audit(request_id: str, action: str) -> list[dict[str, Any]]:
    rows = await fetch(
        "SELECT actor_type, actor_id FROM audit_records WHERE target_id = $1 AND action = $2",
        request_id,
        action,
    )
    return [dict(row) for row in rows]


async def _events(request_id: str, event_type: str) -> list[dict[str, Any]]:
    rows = await fetch(
        "SELECT payload FROM notification_events WHERE subject_id = $1 AND type = $2",
        request_id,
        event_type,
    )
    return [dict(row) for row in rows]


async def _assigned_to(http: httpx.AsyncClient, api_key: str, ticket: str, who: str) -> str:
    filed = await file(http, api_key, iban_change(ticket=ticket))
    lead = StaffMember(0, "lee", Role.TEAM_LEAD)
    await WorkflowService(get_settings()).assign(lead, filed["id"], who)
    return str(filed["id"])


async def _waiting_on_customer(http: httpx.AsyncClient, api_key: str, ticket: str) -> str:
    request_id = await _assigned_to(http, api_key, ticket, "sam")
    sam = await member("sam")
    workflow = WorkflowService(get_settings())
    await workflow.step(sam, request_id, Transition.START)
    await workflow.step(sam, request_id, Transition.WAIT_FOR_CUSTOMER)
    return request_id


async def _post(staff: Staff, request_id: str, action: str, **fields: str) -> httpx.Response:
    token = csrf_field(await staff.client.get("/staff/login"))  # the session's own token
    return await staff.client.post(
        f"/staff/requests/{request_id}/{action}", data={"_csrf_token": token, **fields}
    )


async def test_a_request_left_alone_past_the_limit_is_back_in_triage_unassigned(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    days = get_settings().triage_expire_days
    left_alone = await _assigned_to(http, api_key, "9101", "sam")
    in_work = await _assigned_to(http, api_key, "9102", "sasha")
    await _idle(left_alone, days)
    await _idle(in_work, days - 1)

    assert await expire_idle_requests(get_settings()) == 1

    expected = f"Expired: no action by sam for {days} days"
    assert await _request(left_alone) == {
        "status": "new",
        "assignee": None,
        "triage_reason": expected,
        "triage_kind": "expired",
        "cancellation_reason": None,
    }
    assert (await _request(in_work))["assignee"] == "sasha"
    assert await _audit(left_alone, "change_request.expire.succeeded") == [
        {"actor_type": SYSTEM.kind, "actor_id": SYSTEM.id}
    ]
    [event] = await _events(left_alone, "change_request.expired")
    data = json.loads(event["payload"])["data"]
    assert data["status"] == "new" and data["helpdesk_status"] == "open"
    assert data["note"].endswith(f"is back in Triage, unassigned. {expected}.")  # for the ticket

    triage = {row["id"]: row for row in await team["lee"].rows("triage")}
    assert triage[left_alone]["why"] == expected
    assert triage[left_alone]["expired"] is True and triage[left_alone]["unassigned"] is True
    # Idle, not yet for the limit: flagged stale, still with its specialist.
    assert triage[in_work]["expired"] is False
    assert triage[in_work]["why"] == f"Stale: no progress by sasha for {days - 1} days"

    # The job again: nothing more happens, nothing is audited or told twice.
    assert await run_lifecycle(get_settings()) == {"expired": 0, "customer_silent": 0}
    assert len(await _audit(left_alone, "change_request.expire.succeeded")) == 1
    assert len(await _events(left_alone, "change_request.expired")) == 1

    # Anyone acting on it clears the reason: it is an ordinary request again.
    await WorkflowService(get_settings()).claim_next(await member("sasha"))
    assert await _request(left_alone) == {
        "status": "in_progress",
        "assignee": "sasha",
        "triage_reason": None,
        "triage_kind": None,
        "cancellation_reason": None,
    }
    assert left_alone not in {row["id"] for row in await team["lee"].rows("triage")}


async def test_two_workers_at_once_expire_a_request_once(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    request_id = await _assigned_to(http, api_key, "9201", "sam")
    await _idle(request_id, get_settings().triage_expire_days + 2)

    done = await asyncio.gather(*(expire_idle_requests(get_settings()) for _ in range(2)))

    assert sorted(done) == [0, 1]
    assert len(await _audit(request_id, "change_request.expire.succeeded")) == 1
    assert len(await _events(request_id, "change_request.expired")) == 1


async def test_the_worker_runs_the_lifecycle(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    from gateway.change_requests.lifecycle_jobs import run_ticket_lifecycle
    from gateway.core.jobs import job_app

    request_id = await _assigned_to(http, api_key, "9301", "sam")
    await _idle(request_id, get_settings().triage_expire_days)
    async with job_app.open_async():
        await run_ticket_lifecycle.defer_async(timestamp=0)
        await job_app.run_worker_async(wait=False, install_signal_handlers=False)
    assert (await _request(request_id))["status"] == "new"
    [job] = await fetch(
        "SELECT status FROM procrastinate_jobs WHERE task_name = 'change_requests.lifecycle'"
        " ORDER BY id LIMIT 1"
    )
    assert job["status"] == "succeeded"


async def test_a_customer_who_does_not_answer_is_put_before_the_lead(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    days = get_settings().customer_silent_days
    silent = await _waiting_on_customer(http, api_key, "9401")
    answering = await _waiting_on_customer(http, api_key, "9402")
    await _idle(silent, days)
    await _idle(answering, days - 1)

    assert await mark_silent_customers(get_settings()) == 1

    expected = f"Customer did not answer for {days} days: close or re-post"
    assert await _request(silent) == {
        "status": "waiting_customer",
        "assignee": "sam",
        "triage_reason": expected,
        "triage_kind": "customer_silent",
        "cancellation_reason": None,
    }
    assert (await _request(answering))["triage_reason"] is None
    assert await _audit(silent, "change_request.mark_customer_silent.succeeded") == [
        {"actor_type": SYSTEM.kind, "actor_id": SYSTEM.id}
    ]
    assert len(await _events(silent, "change_request.customer_silent")) == 1
    triage = {row["id"]: row for row in await team["lee"].rows("triage")}
    assert triage[silent]["why"] == expected and triage[silent]["customer_silent"] is True
    assert answering not in triage

    assert await mark_silent_customers(get_settings()) == 0
    assert len(await _events(silent, "change_request.customer_silent")) == 1

    # The lead reads why at the top of the work page, with the two ways out.
    lee = team["lee"]
    page = await lee.get(f"/staff/requests/{silent}")
    assert 'data-testid="triage-reason"' in page.text and expected in page.text
    assert 'data-testid="repost"' in page.text and 'data-testid="close"' in page.text
    # The specialist's own page carries no lead's note and no lead's buttons.
    own = await team["sam"].get(f"/staff/requests/{silent}")
    assert 'data-testid="triage-reason"' not in own.text and 'data-testid="close"' not in own.text

    reposted = await _post(lee, silent, "repost")
    assert reposted.status_code == 303, reposted.text
    assert await _request(silent) == {
        "status": "in_progress",
        "assignee": "sam",
        "triage_reason": None,
        "triage_kind": None,
        "cancellation_reason": None,
    }
    assert silent not in {row["id"] for row in await lee.rows("triage")}


async def test_the_lead_closes_a_request_whose_customer_did_not_answer(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    silent = await _waiting_on_customer(http, api_key, "9501")
    await _idle(silent, get_settings().customer_silent_days)
    await mark_silent_customers(get_settings())

    page = await team["lee"].get(f"/staff/requests/{silent}")
    assert 'value="Customer did not answer"' in page.text
    closed = await _post(team["lee"], silent, "close", reason="Customer did not answer")
    assert closed.status_code == 303, closed.text

    assert await _request(silent) == {
        "status": "cancelled",
        "assignee": "sam",
        "triage_reason": None,
        "triage_kind": None,
        "cancellation_reason": "Customer did not answer",
    }
    assert len(await _events(silent, "change_request.cancelled")) == 1
    # A specialist cannot close: the page has no such button, and the server refuses.
    other = await _waiting_on_customer(http, api_key, "9502")
    refused = await _post(team["sam"], other, "close", reason="Customer did not answer")
    assert refused.status_code == 403 and "team lead" in refused.text
    assert (await _request(other))["status"] == "waiting_customer"


async def test_deactivating_a_specialist_returns_their_open_requests_at_once(
    app: Litestar, http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    in_progress = await _assigned_to(http, api_key, "9601", "sam")
    sam = await member("sam")
    await WorkflowService(get_settings()).step(sam, in_progress, Transition.START)
    waiting = await _waiting_on_customer(http, api_key, "9602")
    rejected = await _assigned_to(http, api_key, "9603", "sam")
    applied = await _assigned_to(http, api_key, "9604", "sam")
    others = await _assigned_to(http, api_key, "9605", "sasha")
    # Sent back by a lead after review, and applied work waiting for review: set as they are.
    await fetch(
        "UPDATE change_requests SET status = 'rejected', review_comment = 'wrong BIC'"
        " WHERE id = $1",
        uuid.UUID(rejected),
    )
    await fetch("UPDATE change_requests SET status = 'applied' WHERE id = $1", uuid.UUID(applied))
    admin = StaffMember(0, "ada", Role.ADMIN)

    done = await deactivate("sam", admin.actor, return_open_requests)

    assert done.requests_returned == 3  # what the admin is told
    reason = "Returned: sam was deactivated"
    for request_id in (in_progress, waiting):
        assert await _request(request_id) == {
            "status": "new",
            "assignee": None,
            "triage_reason": reason,
            "triage_kind": "staff_deactivated",
            "cancellation_reason": None,
        }
    # A rejected request keeps its status (and the lead's comment): a lead gives it to someone,
    # it is never claimed blindly from the queue.
    assert await _request(rejected) == {
        "status": "rejected",
        "assignee": None,
        "triage_reason": reason,
        "triage_kind": "staff_deactivated",
        "cancellation_reason": None,
    }
    assert (await _request(applied))["assignee"] == "sam"  # applied work is reviewed as it is
    assert (await _request(others))["assignee"] == "sasha"
    for request_id in (in_progress, waiting, rejected):
        assert await _audit(request_id, "change_request.return_to_triage.succeeded") == [
            {"actor_type": "staff", "actor_id": "ada"}
        ]
        assert len(await _events(request_id, "change_request.returned_to_triage")) == 1

    triage = {row["id"]: row for row in await team["lee"].rows("triage")}
    for request_id in (in_progress, waiting, rejected):
        assert triage[request_id]["why"] == reason and triage[request_id]["returned"] is True
    assert applied not in triage and others not in triage

    # The lead gives the rejected one to another specialist from the work page.
    assigned = await _post(team["lee"], rejected, "assign", specialist="sasha")
    assert assigned.status_code == 303, assigned.text
    after = await _request(rejected)
    assert after["assignee"] == "sasha" and after["triage_reason"] is None


async def test_triage_says_why_each_request_is_there(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    unassigned = await file(http, api_key, iban_change(ticket="9701"))
    stale = await _assigned_to(http, api_key, "9702", "sam")
    await fetch(
        "UPDATE change_requests SET progress_at = now() - interval '30 hours 10 minutes'"
        " WHERE id = $1",
        uuid.UUID(stale),
    )
    misrouted = await file(http, api_key, iban_change(ticket="9703"))
    await fetch(
        "UPDATE change_requests SET contact_reasons_fit_kind = false WHERE id = $1",
        uuid.UUID(misrouted["id"]),
    )

    why = {row["id"]: row["why"] for row in await team["lee"].rows("triage")}

    assert why[unassigned["id"]] == "Unassigned"
    assert why[stale] == "Stale: no progress by sam for 30 hours"
    assert why[misrouted["id"]] == "Unassigned. Contact reasons do not fit"
    only_stale = await team["lee"].rows("triage", why="stale")
    assert [row["id"] for row in only_stale] == [stale]
