"""POST /v1/webhooks/zuora end to end: the Zuora emulator calls out (signed, with Basic
credentials) to a loopback catcher, whose deliveries the test hands to the gateway as the
network would; the job's part (`process_event`, `pull_missed_callouts`) is run by the test.

A callout replayed five times is kept and recorded once; a forged or altered one is refused
and leaves nothing; a missed one (the emulator's fail-next) is pulled in from Zuora's callout
history; what Zuora said shows on the change request or the correction it concerns.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from adapters.serving import BackgroundServer
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.seed import seed_demo as seed_stripe
from adapters.stripe.emulator.state import StripeAccount
from adapters.zuora.callouts import basic_authorization, sign_callout
from adapters.zuora.emulator.app import create_emulator
from adapters.zuora.emulator.callouts import CALLOUT_PASSWORD, CALLOUT_SECRET, CALLOUT_USERNAME
from adapters.zuora.emulator.seed import seed_demo as seed_zuora
from adapters.zuora.emulator.state import Tenant
from gateway.core.db.connection import fetch
from gateway.fulfilment.service import FulfilmentService
from gateway.webhooks.processing import process_event
from gateway.webhooks.zuora_pull import pull_missed_callouts
from settings import get_settings
from tests.database import auth
from tests.emulators import free_port
from tests.payloads import iban_change

FORWARDED = (
    "authorization",
    "content-type",
    "zuora-notification-id",
    "x-callout-timestamp",
    "x-callout-signature",
)


@dataclass
class Catcher:
    """A loopback endpoint that keeps every callout it receives and answers as the gateway."""

    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {name.decode(): value.decode() for name, value in scope["headers"]}
        self.received.append(({n: v for n, v in headers.items() if n in FORWARDED}, body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"success": true}'})


@dataclass(frozen=True)
class Zuora:
    base: str
    tenant: Tenant
    catcher: Catcher

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = httpx.post(f"{self.base}/_emulator/{path}", json=body or {}, timeout=15)
        assert answer.status_code < 300, answer.text
        return answer.json()

    def settle_debit(self, account: str, amount_minor: int) -> None:
        self.control("debit-in-flight", {"account": account, "amount_minor": amount_minor})
        settled = httpx.delete(
            f"{self.base}/_emulator/debit-in-flight", params={"account": account}
        )
        assert settled.status_code == 200, settled.text

    def attempts(self) -> list[dict[str, Any]]:
        self.control("callouts/drain")
        return list(httpx.get(f"{self.base}/_emulator/callouts", timeout=5).json()["attempts"])


@pytest.fixture
def zuora() -> Iterator[Zuora]:
    """Fresh, seeded emulators where the app's adapters point; Zuora calls out to a catcher."""
    settings = get_settings()
    tenant = Tenant()
    seed_zuora(tenant)
    account = StripeAccount()
    seed_stripe(account, settings.plan_tiers)
    catcher = Catcher()
    servers = [
        BackgroundServer(create_emulator(tenant), settings.zuora_emulator_port).start(),
        BackgroundServer(create_stripe_emulator(account), settings.stripe_emulator_port).start(),
        BackgroundServer(catcher, free_port()).start(),
    ]
    emulator = Zuora(servers[0].base, tenant, catcher)
    emulator.control("callouts", {"url": f"{servers[2].base}/callouts"})
    try:
        yield emulator
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def fulfilment(app: Any) -> FulfilmentService:
    from gateway.fulfilment.wiring import fulfilment_service

    return fulfilment_service()


async def forward(http: httpx.AsyncClient, zuora: Zuora) -> list[httpx.Response]:
    """Hand every callout the catcher received to the gateway, as sent."""
    delivered = list(zuora.catcher.received)
    zuora.catcher.received.clear()
    return [
        await http.post("/v1/webhooks/zuora", content=body, headers=headers)
        for headers, body in delivered
    ]


async def inbox() -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in await fetch(
            "SELECT id, event_id, event_type, object_id, outcome, payload FROM webhook_events"
            " WHERE provider = 'zuora' ORDER BY received_at"
        )
    ]


async def applied_iban_change(http: httpx.AsyncClient, key: str, fulfilment: Any) -> str:
    """An IBAN change applied at Zuora: its last step closes the customer's old method."""
    body = iban_change(iban="FR7630006000011234567890189", targets=["zuora_collection"])
    filed = await http.post("/v1/change-requests", json=body, headers=auth(key, str(uuid.uuid4())))
    assert filed.status_code == 201, filed.text
    request_id = str(filed.json()["id"])
    applied = await http.post(
        f"/v1/change-requests/{request_id}/apply", json={}, headers=auth(key, str(uuid.uuid4()))
    )
    assert applied.status_code == 202, applied.text
    [run] = await fetch(
        "SELECT id FROM fulfilment_runs WHERE change_request_id = $1", uuid.UUID(request_id)
    )
    assert await fulfilment.advance(run["id"]) == "succeeded"
    return request_id


async def closed_method_of(request_id: str) -> str:
    [step] = await fetch(
        "SELECT s.result->>'closed_id' AS closed FROM fulfilment_steps s"
        " JOIN fulfilment_runs r ON r.id = s.run_id"
        " WHERE r.change_request_id = $1 AND s.operation = 'close_method'",
        uuid.UUID(request_id),
    )
    return str(step["closed"])


async def request_events(request_id: str) -> list[dict[str, Any]]:
    [row] = await fetch("SELECT details FROM change_requests WHERE id = $1", uuid.UUID(request_id))
    events = json.loads(row["details"]).get("provider_events") or []
    return [news for news in events if news.get("provider") == "zuora"]


async def test_a_callout_replayed_five_times_is_recorded_once_on_its_change_request(
    http: httpx.AsyncClient, api_key: str, zuora: Zuora, fulfilment: Any
) -> None:
    request_id = await applied_iban_change(http, api_key, fulfilment)
    closed_id = await closed_method_of(request_id)
    [closing] = [a for a in zuora.attempts() if a["event"] == "PaymentMethodClosed"]
    assert closing["object_id"] == closed_id and closing["response_code"] == 200
    for _ in range(4):
        zuora.control("callouts/replay", {"notification_id": closing["notification_id"]})
    zuora.attempts()  # drained

    answers = await forward(http, zuora)
    assert [(a.status_code, a.json()) for a in answers] == [(200, {"success": True})] * 5
    assert answers[0].headers["content-type"].startswith("application/json")
    [row] = await inbox()
    assert (row["event_id"], row["event_type"], row["object_id"]) == (
        closing["notification_id"],
        "payment_method.closed",
        closed_id,
    )
    assert await process_event(row["id"], None) == "recorded"
    assert await process_event(row["id"], None) is None  # processed already

    [news] = await request_events(request_id)
    assert news["event_id"] == closing["notification_id"]
    assert (news["what"], news["status"], news["reread_from_zuora"]) == (
        "payment method closed",
        "closed",  # as Zuora holds it now, read again by the job
        True,
    )
    audited = await fetch(
        "SELECT count(*) AS n FROM audit_records"
        " WHERE action = 'change_request.provider_event.recorded' AND target_id = $1",
        request_id,
    )
    assert audited[0]["n"] == 1


def signed(
    body: bytes,
    *,
    secret: str = CALLOUT_SECRET,
    password: str = CALLOUT_PASSWORD,
    moment: int | None = None,
    notification_id: str = "forged-1",
) -> dict[str, str]:
    timestamp, signature = sign_callout(body, secret, moment)
    return {
        "Authorization": basic_authorization(CALLOUT_USERNAME, password),
        "Content-Type": "application/json",
        "Zuora-Notification-Id": notification_id,
        "X-Callout-Timestamp": timestamp,
        "X-Callout-Signature": signature,
    }


CALLOUT = json.dumps(
    {
        "eventCategory": "RefundProcessed",
        "objectType": "Refund",
        "objectId": "r1",
        "accountId": "a1",
    }
).encode()


@pytest.mark.parametrize(
    ("name", "body", "headers"),
    [
        ("wrong secret", CALLOUT, lambda: signed(CALLOUT, secret="guessed")),
        ("wrong password", CALLOUT, lambda: signed(CALLOUT, password="guessed")),
        ("one byte changed", CALLOUT.replace(b"r1", b"r2"), lambda: signed(CALLOUT)),
        ("stale", CALLOUT, lambda: signed(CALLOUT, moment=int(time.time()) - 301)),
        ("future", CALLOUT, lambda: signed(CALLOUT, moment=int(time.time()) + 301)),
        ("unsigned", CALLOUT, lambda: {"Content-Type": "application/json"}),
    ],
)
async def test_a_forged_callout_is_refused_and_nothing_is_kept(
    http: httpx.AsyncClient, name: str, body: bytes, headers: Any
) -> None:
    answer = await http.post("/v1/webhooks/zuora", content=body, headers=headers())
    assert answer.status_code == 401, name
    assert answer.json()["code"] in ("webhook_signature_invalid", "webhook_timestamp_out_of_range")
    assert await inbox() == []


async def test_a_signed_body_that_is_no_callout_is_refused(http: httpx.AsyncClient) -> None:
    for body in (b"[1, 2]", b'{"objectId": "x"}', b"not json"):
        answer = await http.post("/v1/webhooks/zuora", content=body, headers=signed(body))
        assert (answer.status_code, answer.json()["code"]) == (400, "malformed_body"), body
    no_id = signed(CALLOUT, notification_id="")
    answer = await http.post("/v1/webhooks/zuora", content=CALLOUT, headers=no_id)
    assert answer.status_code == 400
    assert await inbox() == []


async def test_a_missed_callout_is_pulled_in_from_the_history(
    http: httpx.AsyncClient, zuora: Zuora
) -> None:
    zuora.control("callouts/fail-next", {"count": 1})
    zuora.settle_debit("A00000101", 4900)
    [missed] = zuora.attempts()
    assert (missed["event"], missed["response_code"]) == ("PaymentProcessed", -1)
    assert zuora.catcher.received == []  # never sent

    assert await pull_missed_callouts() == 1
    [row] = await inbox()
    assert (row["event_id"], row["event_type"]) == (missed["notification_id"], "payment.succeeded")
    assert row["object_id"] == missed["object_id"]
    assert json.loads(row["payload"])["pulledFromHistory"] is True
    assert await pull_missed_callouts() == 0  # pulled already: nothing new

    # Zuora retries it later and it arrives after all: still one event.
    zuora.control("callouts/replay", {"notification_id": missed["notification_id"]})
    zuora.attempts()
    [answer] = await forward(http, zuora)
    assert answer.json() == {"success": True}
    assert len(await inbox()) == 1
    assert await process_event(row["id"], None) == "nothing_concerned"  # no correction paid it


def payment_of(tenant: Tenant, account_number: str) -> str:
    [account] = [
        a for a in tenant.table("Account").values() if a["AccountNumber"] == account_number
    ]
    [payment] = [p for p in tenant.table("Payment").values() if p["AccountId"] == account["Id"]]
    return str(payment["Id"])


async def test_a_refund_callout_shows_on_the_correction_it_concerns(
    http: httpx.AsyncClient, api_key: str, zuora: Zuora
) -> None:
    from gateway.corrections.wiring import correction_service

    payment_id = payment_of(zuora.tenant, "A-WRONG-CARD")
    zuora.control("callouts/fail-next", {"count": 1})  # its callout is missed, then pulled
    filed = await http.post(
        "/v1/refunds",
        json={
            "provider": "zuora",
            "payment_id": payment_id,
            "amount_minor": 1000,
            "reason": "charged twice",
        },
        headers=auth(api_key, str(uuid.uuid4())),
    )
    assert filed.status_code == 202, filed.text
    correction_id = filed.json()["id"]
    assert await correction_service().advance(uuid.UUID(correction_id)) == "succeeded"
    [refunded] = [a for a in zuora.attempts() if a["event"] == "RefundProcessed"]
    assert refunded["response_code"] == -1

    assert await pull_missed_callouts() == 1
    [row] = await inbox()
    assert row["event_type"] == "refund.succeeded"
    assert await process_event(row["id"], None) == "recorded"

    answer = await http.get(f"/v1/corrections/{correction_id}", headers=auth(api_key))
    [news] = answer.json()["provider_events"]
    assert (news["event_id"], news["what"], news["status"]) == (
        refunded["notification_id"],
        "refund processed",
        "succeeded",  # the refund as Zuora holds it, read again by the job
    )
    assert news["found"]["amount"] == {"amount_minor": 1000, "currency": "EUR"}
    assert news["pulled_from_history"] is True


async def test_a_debit_the_bank_refused_calls_out_payment_failed(
    http: httpx.AsyncClient, zuora: Zuora
) -> None:
    zuora.control("debit-in-flight", {"account": "A00000101", "amount_minor": 4900})
    zuora.control("debit-in-flight/fail", {"account": "A00000101"})
    [failed] = zuora.attempts()
    assert (failed["event"], failed["response_code"]) == ("PaymentFailed", 200)
    [answer] = await forward(http, zuora)
    assert answer.json() == {"success": True}
    [row] = await inbox()
    assert (row["event_type"], row["object_id"]) == ("payment.failed", failed["object_id"])
    assert await process_event(row["id"], None) == "nothing_concerned"
    assert not any(a["event"] == "PaymentProcessed" for a in zuora.attempts())
