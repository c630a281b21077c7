"""The ticket loop, end to end (issue 16, "Done when"): a support tool's receiver on loopback,
checking every signature with the Standard Webhooks library, hears every event of a change
request's life in order (sequence 1..n), survives being down for a while (the deliveries catch
up, every failed try kept), and a resend from the back office arrives again with the same id.

The real server runs with its job worker (`server_with_worker`), its own emulators (Apply), a
one-second retry schedule and the receiver's host allowed; the admin registers the endpoint
and resends through the back-office pages; the specialist's and lead's steps go through the
workflow service in this process, which shares the database and the job queue."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest

from audit.entry import SYSTEM
from gateway.change_requests.states import Transition
from gateway.change_requests.workflow import WorkflowService
from gateway.core.db.connection import fetch
from gateway.core.jobs import job_app
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from gateway.staff.service import create_staff
from settings import get_settings
from tests.browser.conftest import server_with_worker
from tests.database import LiveServer, auth, issue_test_key
from tests.integration.notification_receiver import Arrival, Receiver
from tests.integration.staff import PASSWORD, Staff, enrol
from tests.integration.test_apply import NEW_IBAN, atelier
from tests.integration.test_customer_page import action_form

PAGE = "/staff/notifications"
# Every event of a request's life, in the order it happens (pre-check results may come between).
LIFE = [
    "change_request.filed",
    "change_request.assigned",
    "change_request.started",
    "change_request.waiting_customer",
    "change_request.resumed",
    "change_request.applying",
    "change_request.applied",
    "change_request.approved",
]
# One second between tries, for longer than the receiver is down.
RETRY_SCHEDULE = ",".join(["1"] * 60)
WAIT_SECONDS = 60.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def notifying_server(database_url: str, tmp_path: Path, receiver: Receiver) -> Iterator[LiveServer]:
    settings = {
        "BG_NOTIFICATION_ALLOWED_HOSTS": f"127.0.0.1:{receiver.port}",
        "BG_NOTIFICATION_RETRY_SCHEDULE": RETRY_SCHEDULE,
    }
    with mock.patch.dict(os.environ, settings), server_with_worker(database_url, tmp_path) as live:
        yield live


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {WAIT_SECONDS:.0f} s: {what}")
        await asyncio.sleep(0.2)


def heard(receiver: Receiver, request_id: str) -> list[Arrival]:
    return [item for item in receiver.arrivals if item.data["subject"]["id"] == request_id]


def heard_of(receiver: Receiver, request_id: str, event_type: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return event_type in [item.type for item in heard(receiver, request_id)]

    return check


async def member(username: str, role: Role) -> StaffMember:
    await create_staff(username, f"{username}@example.com", role, SYSTEM, password=PASSWORD)
    [row] = await fetch("SELECT id FROM staff_users WHERE username = $1", username)
    return StaffMember(row["id"], username, role)


async def register_endpoint(admin: Staff, url: str) -> str:
    """The admin registers the receiver on the back-office page; the secret shown once."""
    page = await admin.get(PAGE)
    _, hidden = action_form(page, "register")
    answer = await admin.client.post(
        f"{PAGE}/register",
        data={**hidden, "url": url, "events": ["change_request.*"], "description": "Help desk"},
    )
    assert answer.status_code == 200, answer.text
    secret = answer.text.split('data-testid="endpoint-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith("whsec_"), answer.text
    return secret


async def failed_tries(request_id: str) -> list[dict[str, Any]]:
    rows = await fetch(
        "SELECT a.delivery_id, a.response_status, a.error FROM notification_attempts a"
        " JOIN notification_deliveries d ON d.id = a.delivery_id"
        " JOIN notification_events e ON e.id = d.event_id"
        " WHERE e.subject_id = $1 AND a.error IS NOT NULL ORDER BY a.id",
        request_id,
    )
    return [dict(row) for row in rows]


async def status_of(request_id: str) -> str:
    [row] = await fetch("SELECT status FROM change_requests WHERE id = $1", uuid.UUID(request_id))
    return str(row["status"])


async def test_a_receiver_hears_a_request_s_life_in_order_through_an_outage_and_a_resend(
    notifying_server: LiveServer, receiver: Receiver
) -> None:
    server = notifying_server
    ada = await enrol(server.base_url, "ada", Role.ADMIN)
    receiver.secret = await register_endpoint(ada, receiver.url)
    receiver.start()
    sam = await member("sam", Role.SPECIALIST)
    lee = await member("lee", Role.TEAM_LEAD)
    workflow = WorkflowService(get_settings())
    key = await issue_test_key()

    async with httpx.AsyncClient(base_url=server.base_url) as api, job_app.open_async():
        filed = await api.post(
            "/v1/change-requests",
            json=atelier("zuora_collection", "stripe_customer_debit"),
            headers=auth(key, uuid.uuid4().hex),
        )
        assert filed.status_code == 201, filed.text
        request_id = str(filed.json()["id"])
        await workflow.claim_next(sam)
        await workflow.step(sam, request_id, Transition.WAIT_FOR_CUSTOMER)
        await workflow.step(sam, request_id, Transition.RESUME)
        await eventually(heard_of(receiver, request_id, "change_request.resumed"), "resumed")

        receiver.stop()  # the help desk is down: Apply and the review go on without it
        applied = await api.post(
            f"/v1/change-requests/{request_id}/apply",
            json={},
            headers=auth(key, uuid.uuid4().hex),
        )
        assert applied.status_code == 202, applied.text

        async def is_applied() -> bool:
            return await status_of(request_id) == "applied"

        await eventually(is_applied, "the request applied at the providers")
        await workflow.approve(lee, request_id)

        async def tries_failed() -> bool:
            return len(await failed_tries(request_id)) >= 3

        await eventually(tries_failed, "failed tries recorded while the receiver is down")
        missed = len(heard(receiver, request_id))
        assert missed < len(LIFE)  # the end of the story is still to come
        receiver.start()
        await eventually(heard_of(receiver, request_id, LIFE[-1]), "caught up after the outage")

    events = await fetch(
        "SELECT id, type, sequence FROM notification_events"
        " WHERE subject_type = 'change_request' AND subject_id = $1 ORDER BY sequence",
        request_id,
    )
    story = heard(receiver, request_id)
    assert [item.webhook_id for item in story] == [str(event["id"]) for event in events]
    assert [item.data["sequence"] for item in story] == list(range(1, len(events) + 1))
    assert [item.type for item in story if item.type in LIFE] == LIFE
    assert receiver.refused == 0
    for item in story:
        assert item.data["subject"] == {
            "type": "change_request",
            "id": request_id,
            "url": f"/v1/change-requests/{request_id}",
        }
        assert item.data["note"] and item.data["ticket"].startswith("zendesk:")
        assert NEW_IBAN.encode() not in item.raw and NEW_IBAN[-10:].encode() not in item.raw
    by_type = {item.type: item.data for item in story}
    assert by_type["change_request.filed"]["helpdesk_status"] == "new"
    assert by_type["change_request.waiting_customer"]["helpdesk_status"] == "pending"
    assert by_type["change_request.approved"]["helpdesk_status"] == "solved"
    assert by_type["change_request.approved"]["status"] == "approved"

    # Every failed try is kept and shown: no response, the error as a sentence.
    failed = await failed_tries(request_id)
    assert all(attempt["response_status"] is None for attempt in failed)
    late = failed[0]["delivery_id"]
    shown = await ada.get(f"{PAGE}/deliveries/{late}")
    assert shown.status_code == 200, shown.text
    assert shown.text.count('data-testid="attempt"') >= 2
    assert 'data-status="delivered"' in shown.text

    # A resend from the back office (sent twice by a double click) arrives once more, same id.
    [first] = [item for item in story if item.type == LIFE[0]]
    [delivery] = await fetch(
        "SELECT id FROM notification_deliveries WHERE event_id = $1", uuid.UUID(first.webhook_id)
    )
    page = await ada.get(f"{PAGE}/deliveries/{delivery['id']}")
    address, hidden = action_form(page, "resend")
    for _ in range(2):
        resent = await ada.client.post(address, data=hidden)
        assert resent.status_code == 303, resent.text
        assert resent.headers["location"].endswith("?done=resent")

    async def heard_twice() -> bool:
        return [item.webhook_id for item in receiver.arrivals].count(first.webhook_id) == 2

    await eventually(heard_twice, "the resent event")
    again = [item for item in receiver.arrivals if item.webhook_id == first.webhook_id][-1]
    assert again.body == first.body
    await asyncio.sleep(2)  # a second resend would have arrived by now
    assert [item.webhook_id for item in receiver.arrivals].count(first.webhook_id) == 2
    resends = await fetch(
        "SELECT count(*) AS n FROM notification_attempts WHERE delivery_id = $1"
        " AND trigger = 'resend'",
        delivery["id"],
    )
    assert resends[0]["n"] == 1
    after = await ada.get(f"{PAGE}/deliveries/{delivery['id']}")
    assert "resent by hand" in after.text
