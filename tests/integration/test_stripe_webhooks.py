"""POST /v1/webhooks/stripe under attack and under Stripe's own habits: forged, altered, stale,
future-dated and wrongly-keyed deliveries change nothing; a rotated secret still works; the
same event delivered five times is kept and processed once; an older event arriving after a
newer one is decided by re-reading the object from Stripe."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date
from typing import Any

import httpx
import pytest

from adapters.stripe.emulator.signing import sign
from gateway.core.db.connection import fetch
from gateway.webhooks.processing import ObjectReader, process_event
from tests.database import LiveServer, auth
from tests.payloads import iban_change, with_change

SECRET = "whsec_emulator"  # the sandbox's: the emulator's secret


def event(
    event_id: str, kind: str, data_object: dict[str, Any], created: int | None = None
) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind,
            "created": created or int(time.time()),
            "livemode": False,
            "data": {"object": data_object},
        }
    ).encode()


async def deliver(http: httpx.AsyncClient, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return await http.post("/v1/webhooks/stripe", content=body, headers=headers)


async def inbox() -> list[dict[str, Any]]:
    return await fetch("SELECT event_id, processed_at, outcome FROM webhook_events")


SETUP = {"id": "seti_1", "object": "setup_intent", "status": "succeeded", "metadata": {}}


async def test_a_genuine_event_is_kept_once(http: httpx.AsyncClient) -> None:
    body = event("evt_genuine", "setup_intent.succeeded", SETUP)
    answer = await deliver(http, body, sign(body, SECRET))
    assert answer.status_code == 200 and answer.json() == {"received": True, "duplicate": False}
    assert [row["event_id"] for row in await inbox()] == ["evt_genuine"]


@pytest.mark.parametrize(
    ("name", "tamper"),
    [
        ("no signature", lambda body: (body, None)),
        ("wrong secret", lambda body: (body, sign(body, "whsec_attacker"))),
        (
            "one byte changed",
            lambda body: (body.replace(b"succeeded", b"succeedee"), sign(body, SECRET)),
        ),
        ("stale", lambda body: (body, sign(body, SECRET, int(time.time()) - 301))),
        ("future", lambda body: (body, sign(body, SECRET, int(time.time()) + 301))),
        ("garbage header", lambda body: (body, "t=abc,v1=")),
    ],
)
async def test_forged_deliveries_change_nothing(
    http: httpx.AsyncClient, name: str, tamper: Any
) -> None:
    body, signature = tamper(
        event(f"evt_{name.replace(' ', '_')}", "setup_intent.succeeded", SETUP)
    )
    answer = await deliver(http, body, signature)
    assert answer.status_code == 401, name
    assert answer.json()["code"] in ("webhook_signature_invalid", "webhook_timestamp_out_of_range")
    assert await inbox() == []


async def test_both_secrets_work_during_a_rotation(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, app: Any
) -> None:
    from settings import Settings

    rotated = Settings(stripe_webhook_secrets="whsec_new,whsec_old")  # type: ignore[call-arg]
    monkeypatch.setattr(
        "adapters.stripe.provider.webhook_secrets", lambda _s: rotated.stripe_webhook_secrets
    )
    for index, secret in enumerate(("whsec_new", "whsec_old")):
        body = event(f"evt_rotation_{index}", "setup_intent.succeeded", SETUP)
        assert (await deliver(http, body, sign(body, secret))).status_code == 200
    body = event("evt_rotation_gone", "setup_intent.succeeded", SETUP)
    assert (await deliver(http, body, sign(body, SECRET))).status_code == 401


async def filed_request(http: httpx.AsyncClient, api_key: str) -> str:
    answer = await http.post(
        "/v1/change-requests", json=iban_change(), headers=auth(api_key, "webhook-test")
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def test_the_same_event_five_times_is_processed_once(
    http: httpx.AsyncClient, api_key: str
) -> None:
    request_id = await filed_request(http, api_key)
    body = event(
        "evt_five",
        "setup_intent.succeeded",
        {**SETUP, "metadata": {"change_request_id": request_id}},
    )
    answers = [await deliver(http, body, sign(body, SECRET)) for _ in range(5)]
    assert [answer.json()["duplicate"] for answer in answers] == [False, True, True, True, True]
    [row] = await fetch("SELECT id FROM webhook_events")
    assert await process_event(row["id"], None) == "recorded"
    assert await process_event(row["id"], None) is None  # processed already
    details = (await fetch("SELECT details FROM change_requests WHERE id::text = $1", request_id))[
        0
    ]
    events = json.loads(details["details"])["provider_events"]
    assert [news["event_id"] for news in events] == ["evt_five"]
    audited = await fetch(
        "SELECT count(*) AS n FROM audit_records"
        " WHERE action = 'change_request.provider_event.recorded'"
    )
    assert audited[0]["n"] == 1


class StripeNow(ObjectReader):
    def __init__(self) -> None:
        self.reads: list[str] = []

    async def current_object(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        self.reads.append(object_id)
        return {
            "id": object_id,
            "object": object_type,
            "status": "inactive",
            "metadata": self.metadata,
        }

    metadata: dict[str, str] = {}


async def test_an_older_event_after_a_newer_one_is_decided_by_stripe(
    http: httpx.AsyncClient, api_key: str
) -> None:
    request_id = await filed_request(http, api_key)
    mandate = {
        "id": "mandate_1",
        "object": "mandate",
        "metadata": {"change_request_id": request_id},
    }
    now = int(time.time())
    newer = event("evt_newer", "mandate.updated", {**mandate, "status": "inactive"}, now)
    older = event("evt_older", "mandate.updated", {**mandate, "status": "active"}, now - 60)
    for body in (newer, older):  # Stripe does not promise the order
        assert (await deliver(http, body, sign(body, SECRET))).status_code == 200
    reader = StripeNow()
    reader.metadata = {"change_request_id": request_id}
    ids = {
        row["event_id"]: row["id"] for row in await fetch("SELECT id, event_id FROM webhook_events")
    }
    await process_event(ids["evt_newer"], reader)
    await process_event(ids["evt_older"], reader)
    assert reader.reads == ["mandate_1"]  # only the late one needed Stripe's word
    details = (await fetch("SELECT details FROM change_requests WHERE id::text = $1", request_id))[
        0
    ]
    events = json.loads(details["details"])["provider_events"]
    assert [(news["event_id"], news["status"]) for news in events] == [
        ("evt_newer", "inactive"),
        ("evt_older", "inactive"),  # not "active": the stale payload did not win
    ]


async def test_the_sandbox_emulator_signs_and_delivers_to_the_real_server(
    live_server: LiveServer, api_key: str
) -> None:
    """The real server in sandbox, its Stripe emulator, the Stripe adapter: a SEPA change for a
    change request makes Stripe events, which arrive signed at /v1/webhooks/stripe, are kept
    once, and once processed, are on the request and in the audit trail."""
    from adapters.ports import NewSepaMethod
    from adapters.stripe.adapter import StripeAdapter
    from adapters.stripe.client import StripeConfig
    from adapters.stripe.emulator.state import API_KEY

    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as client:
        filed = await client.post(
            "/v1/change-requests", json=iban_change(), headers=auth(api_key, "e2e-webhook")
        )
    request_id = filed.json()["id"]
    stripe = StripeAdapter(StripeConfig(API_KEY, live_server.stripe_emulator))
    try:
        await stripe.create_sepa_payment_method(
            "cus_DemoAtelier01",
            NewSepaMethod(
                iban="FR7630006000011234567890189",
                holder="Atelier Lumière SARL",
                email="compta@atelier.example",
                mandate_id="BG-E2E",
                mandate_signed_on=date(2026, 11, 23),
                change_request_id=request_id,
            ),
            idempotency_key="e2e-webhook:stripe:setup",
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            rows = await fetch("SELECT id, event_type FROM webhook_events ORDER BY event_created")
            if {"setup_intent.succeeded", "mandate.updated"} <= {r["event_type"] for r in rows}:
                break
            await asyncio.sleep(0.1)
        reader = AdapterReader(stripe)
        outcomes = {row["event_type"]: await process_event(row["id"], reader) for row in rows}
    finally:
        await stripe.close()
    assert outcomes["setup_intent.succeeded"] == "recorded"
    assert outcomes["payment_method.attached"] == "recorded"
    assert outcomes["mandate.updated"] == "recorded"  # found through its payment method
    details = (await fetch("SELECT details FROM change_requests WHERE id::text = $1", request_id))[
        0
    ]
    seen = {news["what"] for news in json.loads(details["details"])["provider_events"]}
    assert seen == {"mandate confirmed", "payment method attached", "mandate updated"}


class AdapterReader(ObjectReader):
    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter

    async def current_object(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        return await self.adapter.current_object(object_type, object_id)  # type: ignore[no-any-return]


async def test_a_failed_payout_is_recorded_on_the_partners_request(
    http: httpx.AsyncClient, api_key: str
) -> None:
    body = with_change(
        iban_change(targets=["stripe_connect_payout"]),
        "customer.stripe_connect_account_id",
        "acct_partner_x",
    )
    filed = await http.post("/v1/change-requests", json=body, headers=auth(api_key, "payout"))
    assert filed.status_code == 201, filed.text
    payout = {
        "id": "po_1",
        "object": "payout",
        "status": "failed",
        "failure_code": "account_closed",
    }
    raw = json.loads(event("evt_payout", "payout.failed", payout))
    raw["account"] = "acct_partner_x"  # Connect events name the connected account
    delivered = json.dumps(raw).encode()
    assert (await deliver(http, delivered, sign(delivered, SECRET))).status_code == 200
    [row] = await fetch("SELECT id FROM webhook_events")
    assert await process_event(row["id"], None) == "recorded"
    details = (
        await fetch("SELECT details FROM change_requests WHERE id = $1::uuid", filed.json()["id"])
    )[0]
    [news] = json.loads(details["details"])["provider_events"]
    assert (news["what"], news["status"]) == ("payout failed", "failed")
