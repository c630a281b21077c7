"""The outbox of outgoing notifications, filled by the real API and back-office services: every
state change of a request or a correction, and a provider's news, is one event with the next
sequence number of its subject, the help-desk status it maps to, a sentence for the ticket's
internal note, and masked data only. A change that rolls back leaves no event."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
import pytest

from adapters.stripe.emulator.signing import sign
from gateway.change_requests.states import Transition
from gateway.change_requests.workflow import WorkflowService
from gateway.core.db.connection import fetch, transaction
from gateway.core.sensitive import contains_card_number, contains_iban, strings_in
from gateway.corrections.schemas import RefundCreate
from gateway.corrections.service import CorrectionService, Requester
from gateway.fulfilment.service import Applier, FulfilmentService
from gateway.notifications.outbox import kicks_sent
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from gateway.webhooks.processing import process_event
from settings import get_settings
from tests.database import auth
from tests.integration.test_zuora_callouts import Zuora, forward
from tests.integration.test_zuora_callouts import zuora as zuora_emulator  # noqa: F401 (fixture)
from tests.payloads import iban_change

NEW_IBAN = "FR7630006000011234567890189"  # published test number, masked FR****0189


@pytest.fixture
def fulfilment(app: Any) -> FulfilmentService:
    from gateway.fulfilment.wiring import fulfilment_service

    return fulfilment_service()


@pytest.fixture
def corrections(app: Any) -> CorrectionService:
    from gateway.corrections.wiring import correction_service

    return correction_service()


@pytest.fixture
def kicks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The dispatch job's kicks, counted instead of queued."""
    kicked: list[str] = []

    async def kick() -> None:
        kicked.append("dispatch")

    monkeypatch.setattr("gateway.notifications.outbox.kick_dispatch", kick)
    return kicked


async def staff_member(username: str, role: Role, first: str, last: str) -> StaffMember:
    from audit.entry import SYSTEM
    from gateway.staff.service import create_staff

    await create_staff(username, f"{username}@example.com", role, SYSTEM, password="x" * 16)
    [row] = await fetch(
        "UPDATE staff_users SET first_name = $2, last_name = $3 WHERE username = $1 RETURNING id",
        username,
        first,
        last,
    )
    return StaffMember(row["id"], username, role)


async def events_of(subject_id: str) -> list[dict[str, Any]]:
    rows = await fetch(
        "SELECT type, sequence, client, customer, payload FROM notification_events"
        " WHERE subject_id = $1 ORDER BY position",
        subject_id,
    )
    return [
        {
            **row,
            "payload": json.loads(row["payload"]),
            "customer": json.loads(row["customer"]) if row["customer"] else None,
        }
        for row in rows
    ]


def assert_masked(events: list[dict[str, Any]]) -> None:
    for event in events:
        for text in strings_in(event["payload"]):
            assert not contains_iban(text), text
            assert not contains_card_number(text), text
        assert NEW_IBAN not in json.dumps(event["payload"])


async def file(http: httpx.AsyncClient, key: str, ticket: str) -> str:
    body = iban_change(
        ticket=ticket,
        iban=NEW_IBAN,
        account_holder="Atelier Lumière SARL",
        account_holder_email="compta@atelier.example",
        targets=["zuora_collection"],
    )
    answer = await http.post("/v1/change-requests", json=body, headers=auth(key, uuid.uuid4().hex))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def test_a_requests_life_is_told_in_order_with_help_desk_statuses_and_masked_data(
    http: httpx.AsyncClient,
    api_key: str,
    provider_emulators: None,
    fulfilment: FulfilmentService,
    kicks: list[str],
) -> None:
    from gateway.fulfilment.check_jobs import checks_service

    request_id = await file(http, api_key, "1001")
    workflow = WorkflowService(get_settings())
    sam = await staff_member("sam", Role.SPECIALIST, "Sam", "Specialist")
    lee = await staff_member("lee", Role.TEAM_LEAD, "Lee", "Lead")

    await workflow.claim_next(sam)
    await checks_service().refresh(uuid.UUID(request_id), "claim")  # the claim's job
    await workflow.step(sam, request_id, Transition.WAIT_FOR_CUSTOMER)
    await workflow.step(sam, request_id, Transition.RESUME)
    await fulfilment.apply(uuid.UUID(request_id), Applier.of_staff(sam))
    [run] = await fetch(
        "SELECT id FROM fulfilment_runs WHERE change_request_id = $1", uuid.UUID(request_id)
    )
    assert await fulfilment.advance(run["id"]) == "succeeded"
    await workflow.approve(lee, request_id)

    events = await events_of(request_id)
    told = [(e["type"], e["payload"]["data"]["helpdesk_status"]) for e in events]
    assert told == [
        ("change_request.filed", "new"),
        ("change_request.assigned", "open"),
        ("change_request.started", "open"),
        ("change_request.checks_ready", "open"),
        ("change_request.waiting_customer", "pending"),
        ("change_request.resumed", "open"),
        ("change_request.applying", "open"),
        ("change_request.applied", "solved"),
        ("change_request.approved", "solved"),
    ]
    assert [e["sequence"] for e in events] == list(range(1, 10))
    assert [e["payload"]["data"]["sequence"] for e in events] == list(range(1, 10))
    assert {e["client"] for e in events} == {"test-tool"}
    assert_masked(events)

    applied = events[7]["payload"]
    assert applied["type"] == "change_request.applied"
    data = applied["data"]
    assert data["subject"] == {
        "type": "change_request",
        "id": request_id,
        "url": f"/v1/change-requests/{request_id}",
    }
    assert (data["ticket"], data["ticket_display"]) == ("zendesk:1001", "zendesk #1001")
    assert data["status"] == "applied"
    assert data["iban"] == {"country": "FR", "last4": "0189", "masked": "FR****0189"}
    assert data["assignee"] == {"username": "sam", "display_name": "Sam Specialist"}
    assert data["customer"]["zuora_account_id"] == "A00000101"
    assert data["note"].startswith(
        "Bank details changed at Zuora for account A00000101 (IBAN FR****0189). "
        "Applied by Sam Specialist;"
    )
    assert events[0]["customer"] == {"backoffice_id": "shop-101", "zuora_account_id": "A00000101"}
    assert events[-1]["payload"]["data"]["note"].startswith("Lee Lead approved")
    assert kicks, "the dispatch job is kicked after each commit"


async def test_a_change_rolled_back_leaves_no_event_and_no_kick(
    http: httpx.AsyncClient, api_key: str, kicks: list[str]
) -> None:
    request_id = await file(http, api_key, "1002")
    sam = await staff_member("sam", Role.SPECIALIST, "Sam", "Specialist")
    workflow = WorkflowService(get_settings())
    await workflow.claim_next(sam)
    await kicks_sent()  # every kick owed to the commits so far (they are spaced out) is in
    before, kicked = await events_of(request_id), len(kicks)

    async def wait_then_fail() -> None:
        async with transaction():
            await workflow.step(sam, request_id, Transition.WAIT_FOR_CUSTOMER)
            raise RuntimeError("the database connection dropped before the commit")

    with pytest.raises(RuntimeError):
        await wait_then_fail()
    assert await events_of(request_id) == before
    assert len(kicks) == kicked
    [row] = await fetch("SELECT status FROM change_requests WHERE id = $1", uuid.UUID(request_id))
    assert row["status"] == "in_progress"

    cancelled = await http.post(
        f"/v1/change-requests/{request_id}/cancel",
        json={"reason": "the customer withdrew"},
        headers=auth(api_key, uuid.uuid4().hex),
    )
    assert cancelled.status_code == 200, cancelled.text
    after = await events_of(request_id)
    assert [e["type"] for e in after][-1] == "change_request.cancelled"
    assert after[-1]["payload"]["data"]["helpdesk_status"] == "solved"
    assert [e["sequence"] for e in after] == list(range(1, len(after) + 1))


async def test_apply_refused_by_fraud_stop_is_told_though_the_refusal_rolls_back(
    http: httpx.AsyncClient, api_key: str, provider_emulators: None, kicks: list[str]
) -> None:
    request_id = await file(http, api_key, "1003")
    entry = await http.post(
        "/v1/blocklist/entries",
        json={"kind": "iban", "value": NEW_IBAN, "reason": "chargeback ring"},
        headers=auth(api_key, uuid.uuid4().hex),
    )
    assert entry.status_code == 201, entry.text
    refused = await http.post(
        f"/v1/change-requests/{request_id}/apply",
        json={},
        headers=auth(api_key, uuid.uuid4().hex),
    )
    assert refused.json()["code"] == "blocked_by_fraud_stop", refused.text
    events = await events_of(request_id)
    assert [e["type"] for e in events] == [
        "change_request.filed",
        "change_request.blocked_by_fraud_stop",
    ]
    assert events[1]["payload"]["data"]["status"] == "new"
    assert "fraud-stop" in events[1]["payload"]["data"]["note"]
    assert_masked(events)


async def test_an_apply_through_the_api_is_credited_to_the_support_tools_key(
    http: httpx.AsyncClient,
    api_key: str,
    provider_emulators: None,
    fulfilment: FulfilmentService,
    kicks: list[str],
) -> None:
    request_id = await file(http, api_key, "1004")
    applying = await http.post(
        f"/v1/change-requests/{request_id}/apply", json={}, headers=auth(api_key, uuid.uuid4().hex)
    )
    assert applying.status_code == 202, applying.text
    [run] = await fetch(
        "SELECT id FROM fulfilment_runs WHERE change_request_id = $1", uuid.UUID(request_id)
    )
    assert await fulfilment.advance(run["id"]) == "succeeded"
    [applied] = [e for e in await events_of(request_id) if e["type"] == "change_request.applied"]
    [key] = await fetch("SELECT name FROM api_keys ORDER BY created_at DESC LIMIT 1")
    note = applied["payload"]["data"]["note"]
    assert f"Applied by the support tool's key {key['name']};" in note, note
    assert "specialist" not in note


async def test_a_correction_waiting_for_approval_is_told_until_it_succeeds(
    provider_emulators: None, corrections: CorrectionService, kicks: list[str]
) -> None:
    from gateway.billing.customers import find_customer
    from gateway.providers import providers_from_settings

    providers = providers_from_settings(get_settings())
    try:
        adapter: Any = providers.get("stripe")
        account = await find_customer(adapter, "stripe", "cus_big_refund")
        [paid] = [p for p in await adapter.list_payments(account.id) if p.status == "succeeded"]
    finally:
        await providers.close()
    lee = await staff_member("lee", Role.TEAM_LEAD, "Lee", "Lead")
    lou = await staff_member("lou", Role.TEAM_LEAD, "Lou", "Approver")
    filed = await corrections.file(
        RefundCreate(provider="stripe", payment_id=paid.id, reason="duplicate"),
        Requester.of_staff(lee),
    )
    await corrections.approve(filed.id, lou, filed.payload_hash)
    assert await corrections.advance(filed.id) == "succeeded"

    events = await events_of(str(filed.id))
    told = [(e["type"], e["payload"]["data"]["helpdesk_status"]) for e in events]
    assert told == [
        ("correction.filed", "new"),
        ("correction.awaiting_approval", "open"),
        ("correction.approved", "open"),
        ("correction.succeeded", "solved"),
    ]
    assert [e["sequence"] for e in events] == [1, 2, 3, 4]
    assert {e["client"] for e in events} == {None}  # filed by staff
    data = events[-1]["payload"]["data"]
    assert data["subject"]["url"] == f"/v1/corrections/{filed.id}"
    [amount] = data["amounts"]
    assert amount["amount_minor"] == paid.amount.amount_minor
    assert amount["display"].endswith(paid.amount.currency)
    assert events[0]["customer"] == {"stripe_customer_id": "cus_big_refund"}
    assert "Lou Approver approved" in events[2]["payload"]["data"]["note"]
    assert_masked(events)


async def test_a_stripe_payment_failure_is_told_as_provider_news_about_the_customer(
    http: httpx.AsyncClient, api_key: str, kicks: list[str]
) -> None:
    request_id = await file(http, api_key, "1004")
    await fetch(
        "UPDATE change_requests SET stripe_customer_id = 'cus_Atelier' WHERE id = $1",
        uuid.UUID(request_id),
    )
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "customer": "cus_Atelier",
        "status": "open",
        "amount_due": 4900,
        "currency": "eur",
        "metadata": {},
    }
    body = json.dumps(
        {
            "id": "evt_payment_failed",
            "object": "event",
            "type": "invoice.payment_failed",
            "created": 1_800_000_000,
            "livemode": False,
            "data": {"object": invoice},
        }
    ).encode()
    signed = sign(body, "whsec_emulator", int(time.time()))
    answer = await http.post(
        "/v1/webhooks/stripe",
        content=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": signed},
    )
    assert answer.status_code == 200, answer.text
    [row] = await fetch("SELECT id FROM webhook_events WHERE event_id = 'evt_payment_failed'")
    await process_event(row["id"], None)

    [event] = await events_of("stripe:cus_Atelier")
    assert event["type"] == "provider.payment_failed"
    assert event["client"] is None and event["sequence"] == 1
    assert event["customer"] == {
        "stripe_customer_id": "cus_Atelier",
        "zuora_account_id": "A00000101",
        "backoffice_id": "shop-101",
    }
    data = event["payload"]["data"]
    assert data["helpdesk_status"] == "new"
    assert data["subject"] == {"type": "customer", "id": "stripe:cus_Atelier", "url": None}
    assert data["amount"] == {"amount_minor": 4900, "currency": "EUR", "display": "49.00 EUR"}
    assert data["note"].startswith("Stripe: a payment of 49.00 EUR failed for Stripe customer")
    assert await process_event(row["id"], None) is None  # processed once, told once
    assert len(await events_of("stripe:cus_Atelier")) == 1


async def test_a_zuora_debit_the_bank_refused_is_told_as_provider_news(
    http: httpx.AsyncClient, request: pytest.FixtureRequest
) -> None:
    zuora: Zuora = request.getfixturevalue("zuora_emulator")  # test_zuora_callouts' emulator
    zuora.control("debit-in-flight", {"account": "A00000101", "amount_minor": 4900})
    zuora.control("debit-in-flight/fail", {"account": "A00000101"})
    assert [a["event"] for a in zuora.attempts()] == ["PaymentFailed"]  # sent when drained
    [answer] = await forward(http, zuora)
    assert answer.status_code == 200, answer.text
    [row] = await fetch("SELECT id FROM webhook_events WHERE provider = 'zuora'")
    await process_event(row["id"], None)

    [event] = await events_of("zuora:A00000101")
    assert event["type"] == "provider.payment_failed"
    assert event["customer"] == {"zuora_account_id": "A00000101"}
    data = event["payload"]["data"]
    assert data["amount"]["display"] == "49.00 EUR"
    assert data["note"].startswith("Zuora: a payment of 49.00 EUR failed for account A00000101")


async def test_changes_of_one_subject_at_once_are_numbered_one_to_n_in_commit_order(
    kicks: list[str],
) -> None:
    from gateway.notifications.events import EventType
    from gateway.notifications.outbox import record_event

    async def one_change(n: int) -> None:
        async with transaction():
            await record_event(
                EventType.PROVIDER_PAYMENT_FAILED,
                subject_type="customer",
                subject_id="stripe:cus_many",
                client=None,
                data={"note": f"payment {n} failed"},
            )
            await asyncio.sleep(0.01)  # the others wait for this commit, none skips a number

    await asyncio.gather(*(one_change(n) for n in range(12)))
    rows = await fetch(
        "SELECT sequence, (payload->'data'->>'sequence')::int AS in_body FROM notification_events"
        " WHERE subject_id = 'stripe:cus_many' ORDER BY position"
    )
    assert [row["sequence"] for row in rows] == list(range(1, 13))
    assert all(row["sequence"] == row["in_body"] for row in rows)
