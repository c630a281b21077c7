"""Correction drills: the real gateway process (`python -m gateway serve`, its job worker in the
same process) over real PostgreSQL, killed with SIGKILL at each step of "cancel the wrong-plan
card subscription and refund its payment", on both providers' emulators (served by the test
process, so that they outlive the gateway and tell what really happened). However it dies,
the correction ends with the subscription cancelled and exactly one refund.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from typing import Any

import httpx
import pytest

from adapters.stripe.emulator.seed_corrections import CorrectionCustomer, add_correction_customer
from adapters.zuora.emulator.seed_corrections import CorrectionDemo, add_correction_demo
from audit.chain import seal_pending, verify
from gateway.billing.customers import find_customer
from gateway.core.db.connection import fetch
from gateway.providers import Providers
from tests.database import auth
from tests.drills import Emulators, Gateway, wait_until

# The write each step sends, as the emulators name their operations.
WRITES = {
    "zuora": {"cancel_subscription": "amend:Subscription", "refund_payment": "create:Refund"},
    "stripe": {
        "cancel_subscription": "DELETE /v1/subscriptions/*",
        "refund_payment": "POST /v1/refunds",
    },
}
RECOVERY_SECONDS = 20
_numbers = itertools.count(1)


pytestmark = pytest.mark.usefixtures("calm")  # no fault left over, fresh counts


def fresh_customer(served: Emulators, provider: str) -> str:
    """A new wrong-plan card customer (49.00 EUR paid by card) for one drill."""
    n = next(_numbers)
    if provider == "zuora":
        demo = CorrectionDemo(
            f"DRILL-{n}", f"Drill {n} SARL", f"drill{n}@example.com", "EUR", "49.00", True, True
        )
        add_correction_demo(served.tenant, demo)
        return f"A-DRILL-{n}"
    customer = CorrectionCustomer(
        f"cus_drill_{n}", f"Drill {n} SARL", f"drill{n}@example.com", f"BO-DRILL-{n}", "eur", 4900
    )
    add_correction_customer(served.account, customer)
    return customer.id


async def holdings(adapters: Providers, provider: str, reference: str) -> dict[str, Any]:
    adapter: Any = adapters.get(provider)
    account = await find_customer(adapter, provider, reference)
    [subscription] = await adapter.list_subscriptions(account.id)
    [payment] = await adapter.list_payments(account.id)
    refunds = await adapter.list_refunds(account.id)
    return {"subscription": subscription, "payment": payment, "refunds": list(refunds)}


async def wait_for_final(client: httpx.AsyncClient, key: str, correction_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        answer = await client.get(f"/v1/corrections/{correction_id}", headers=auth(key))
        if answer.status_code == 200:
            body = answer.json()
            if body["status"] in ("succeeded", "failed"):
                return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"still {body.get('status')} after 60 s: {body.get('steps')}")


KILLS = [
    (provider, operation, point, (index + points) % 2 == 0)
    for index, (provider, operation) in enumerate(
        (p, o) for p in ("zuora", "stripe") for o in ("cancel_subscription", "refund_payment")
    )
    for points, point in enumerate(("before-the-call", "after-the-commit"))
]


@pytest.mark.parametrize(
    ("provider", "operation", "point", "client_retries"),
    KILLS,
    ids=[f"{p}-{o}-{t}-{'retry' if r else 'no-retry'}" for p, o, t, r in KILLS],
)
async def test_a_gateway_killed_at_a_step_ends_in_exactly_one_refund(
    api_key: str,
    served: Emulators,
    adapters: Providers,
    live: Gateway,
    provider: str,
    operation: str,
    point: str,
    client_retries: bool,
) -> None:
    """`before-the-call`: the step is marked calling and its request is on its way when the
    gateway dies; the provider never sees it. `after-the-commit`: the provider cancelled or
    refunded and its answer is late; the gateway dies before recording anything. After a
    restart (and the client's retry with the same Idempotency-Key, or none) the correction
    succeeds: the subscription cancelled, the payment refunded once, in full."""
    reference = fresh_customer(served, provider)
    before = await holdings(adapters, provider, reference)
    write = WRITES[provider][operation]
    recorder = served.recorder(provider)
    if point == "before-the-call":
        recorder.hold(write)
    else:
        await served.arm(provider, {"operation": write, "mode": "lost_after_commit", "seconds": 10})
    key = uuid.uuid4().hex
    url = f"/v1/subscriptions/{provider}/{before['subscription'].id}/cancel"
    body = {"then": "refund_last_payment", "reason": "wrong plan", "customer": reference}
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        first = await client.post(url, json=body, headers=auth(api_key, key))
        assert first.status_code == 202, first.text
        if point == "before-the-call":
            await wait_until(lambda: write in recorder.held, what=f"{write} held")
        else:
            await wait_until(lambda: recorder.count(write) >= 1, what=f"{write} sent")
            await asyncio.sleep(0.3)  # the emulator commits, then keeps the answer back
        live.kill()
    killed = time.monotonic()

    live.start()
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        if client_retries:
            retry = await client.post(url, json=body, headers=auth(api_key, key))
            assert (retry.status_code, retry.content) == (202, first.content)
        done = await wait_for_final(client, api_key, first.json()["id"])
    recovered = time.monotonic() - killed
    assert done["status"] == "succeeded", done
    assert [s["status"] for s in done["steps"]] == ["succeeded", "succeeded"], done["steps"]
    after = await holdings(adapters, provider, reference)
    assert after["subscription"].status.lower() in ("canceled", "cancelled")
    assert after["payment"].refunded == before["payment"].amount
    assert len(after["refunds"]) == 1, after["refunds"]
    assert recorder.count(WRITES[provider]["refund_payment"]) == 1
    await seal_pending()
    assert (await verify()).ok
    actions = [
        row["action"]
        for row in await fetch(
            "SELECT action FROM audit_records WHERE target_id = $1 ORDER BY id", done["id"]
        )
    ]
    assert actions.count("correction.run.succeeded") == 1, actions
    assert actions.count("correction.step.succeeded") == 2, actions
    assert recovered < RECOVERY_SECONDS, f"succeeded {recovered:.1f} s after the kill"
