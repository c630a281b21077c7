"""Zuora's callout history as the emulator serves it (every attempt, failedOnly, a time range,
pages of at most 40 with nextPage) and as the adapter reads it (every page, each notification
once, as the neutral event its callout would have made)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters.zuora.adapter import ZuoraAdapter
from adapters.zuora.emulator.app import create_emulator
from adapters.zuora.emulator.callout_history import history_answer
from adapters.zuora.emulator.callouts import CalloutTarget
from adapters.zuora.emulator.seed import seed_demo
from adapters.zuora.emulator.state import Tenant
from adapters.zuora.rest_session import RestConfig, ZuoraRest
from adapters.zuora.rest_transport import RestTransport
from tests.emulators import free_port, serve

NOWHERE = f"http://127.0.0.1:{free_port()}/callouts"  # nothing listens: every call fails


def paid(tenant: Tenant, count: int) -> list[str]:
    account = next(iter(tenant.table("Account").values()))
    return [
        tenant.create(
            "Payment", {"AccountId": account["Id"], "Amount": "10", "Status": "Processed"}
        )
        for _ in range(count)
    ]


def history(base: str, token: str, path: str = "", **params: Any) -> dict[str, Any]:
    answer = httpx.get(
        f"{base}{path or '/v1/notification-history/callout'}",
        params=params or None,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_the_history_pages_filters_and_reads_back_each_notification_once() -> None:
    tenant = Tenant()
    seed_demo(tenant)
    app = create_emulator(tenant)
    sender = app.app.state.callouts
    sender.target = CalloutTarget(NOWHERE)
    made = paid(tenant, 45)
    assert sender.drain()
    sender.fail_next = 0
    first = sender.attempts[0].notification.id
    sender.replay(first)  # a second failed attempt of the same notification
    assert sender.drain()

    token = tenant.login(tenant.username, tenant.password)
    with serve(app) as base:
        page_one = history(base, token, failedOnly="true", pageSize=40)
        assert len(page_one["calloutHistories"]) == 40 and page_one["nextPage"]
        page_two = history(base, token, page_one["nextPage"])
        assert len(page_two["calloutHistories"]) == 6 and "nextPage" not in page_two
        entry = page_one["calloutHistories"][0]
        assert entry["eventCategory"] == "2120" and entry["requestUrl"] == NOWHERE
        assert entry["responseCode"] == -2000 and entry["eventContext"]["<Event.ID>"] == first
        later = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")
        assert history(base, token, startTime=later)["calloutHistories"] == []

        adapter = ZuoraAdapter(
            RestTransport(ZuoraRest(RestConfig(base, tenant.client_id, tenant.client_secret)))
        )
        try:
            events = await adapter.callout_history(datetime.now(UTC) - timedelta(hours=1))
        finally:
            await adapter.close()
    assert len(events) == 45  # 46 attempts, 45 notifications
    assert sorted(event.object_id or "" for event in events) == sorted(made)
    assert {event.type for event in events} == {"payment.succeeded"}


async def answering_200(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"success": true}'})


def test_only_failed_attempts_are_in_the_failed_only_history() -> None:
    tenant = Tenant()
    app = create_emulator(tenant, seed=seed_demo)
    sender = app.app.state.callouts
    with serve(answering_200) as gateway:
        sender.target = CalloutTarget(f"{gateway}/callouts")
        sender.fail_next = 1
        held_back, delivered = paid(tenant, 2)
        assert sender.drain()
    codes = {a.notification.object_id: a.response_code for a in sender.attempts}
    assert codes == {held_back: -1, delivered: 200}

    def listed(**params: str) -> list[str]:
        answer = history_answer(sender, params)
        assert answer.status == 200
        entries = json.loads(answer.body)["calloutHistories"]
        return [entry["eventContext"]["<Object.ID>"] for entry in entries]

    assert listed(failedOnly="true") == [held_back]
    assert sorted(listed(failedOnly="false")) == sorted([held_back, delivered])
