"""Apply drills (T1, T2, T3, T5 in reliability-and-security.md): the real gateway process
(`python -m gateway serve`, its job worker in the same process) over real PostgreSQL, talking
to the Zuora and Stripe emulators over loopback HTTP. The emulators are served by the test
process, so that they outlive a gateway killed with SIGKILL and tell what really happened.

The IBAN change is the demo's: Zuora A00000101 and the Stripe customer cus_DemoAtelier01,
each a new SEPA method, made the default, the old one closed (Zuora) or detached (Stripe).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from adapters.recent import SECONDS as RECENT_SECONDS
from audit.chain import seal_pending, verify
from gateway.core.db.connection import fetch
from gateway.providers import Providers
from tests.database import auth, superuser
from tests.drills import (
    STRIPE_WRITES,
    ZUORA_WRITES,
    Emulators,
    Gateway,
    Holdings,
    file_request,
    holdings,
    ibans,
    wait_for_status,
    wait_until,
)

IBANS = iter(ibans(80))  # one per change: successive changes on the same two customers


pytestmark = pytest.mark.usefixtures("calm")  # no fault left over, fresh counts


@pytest.fixture
def iban() -> str:
    return next(IBANS)


async def before_and_after(adapters: Providers) -> dict[str, Holdings]:
    return {name: await holdings(adapters, name) for name in ("zuora", "stripe")}


async def assert_changed_exactly_once(
    adapters: Providers, before: dict[str, Holdings], request: dict[str, Any], iban: str
) -> None:
    """One new method per provider, the default, active; every method it replaced closed or
    detached; every step succeeded once; the audit chain verifies with one applied entry."""
    # This test's adapters read the customers before the gateway (another process) changed
    # them, and keep such reads for RecentReads' few seconds: a quick Apply was read stale
    # (the new method "not the default") about one run in three. Read after that bound.
    await asyncio.sleep(RECENT_SECONDS + 0.1)
    for provider in ("zuora", "stripe"):
        now = await holdings(adapters, provider)
        new = now.with_iban(iban)
        assert len(new) == 1, (provider, new)
        assert new[0].is_default and new[0].active, (provider, new[0])
        assert before[provider].active_ids().isdisjoint(now.active_ids()), (provider, now)
        assert len(now.methods) <= len(before[provider].methods) + 1, (provider, now)
    assert request["status"] == "applied", request
    [run] = request["fulfilment"]["runs"]
    assert run["status"] == "succeeded", run
    assert {step["status"] for step in run["steps"]} == {"succeeded"}, run["steps"]
    await seal_pending()
    verdict = await verify()
    assert verdict.ok, verdict
    actions = [
        row["action"]
        for row in await fetch(
            "SELECT action FROM audit_records WHERE target_id = $1 ORDER BY id", request["id"]
        )
    ]
    assert actions.count("change_request.apply.succeeded") == 1, actions
    assert actions.count("fulfilment.step.succeeded") == len(run["steps"]), actions
    assert "fulfilment.step.failed" not in actions, actions


def writes_of(provider: str) -> dict[str, str]:
    return ZUORA_WRITES if provider == "zuora" else STRIPE_WRITES


# -- T1: kill -9 at every recovery point ----------------------------------------------------

STEPS = [
    (provider, operation)
    for provider in ("zuora", "stripe")
    for operation in ("create_sepa_method", "set_default_method", "close_method")
]


# From the kill to `applied`, the restart included (about 2 s): the restarted worker resumes
# every run whose advisory lock is free at once; nothing waits for a heartbeat to grow old.
RECOVERY_SECONDS = 15

# Every step and both points; half the cases with the client's retry, half without, each
# step and each point seeing both.
KILLS = [
    (provider, operation, point, (index + points) % 2 == 0)
    for index, (provider, operation) in enumerate(STEPS)
    for points, point in enumerate(("before-the-call", "after-the-commit"))
]


@pytest.mark.parametrize(
    ("provider", "operation", "point", "client_retries"),
    KILLS,
    ids=[f"{p}-{o}-{t}-{'retry' if r else 'no-retry'}" for p, o, t, r in KILLS],
)
async def test_a_gateway_killed_at_a_step_completes_the_change_exactly_once(
    api_key: str,
    served: Emulators,
    adapters: Providers,
    live: Gateway,
    iban: str,
    provider: str,
    operation: str,
    point: str,
    client_retries: bool,
) -> None:
    """`before-the-call`: the step is marked calling and its request is on its way, and the
    gateway dies before the provider sees it (the recorder drops it). `after-the-commit`: the
    provider made the change and its answer is late (`lost_after_commit`); the gateway dies
    before it recorded anything. After a restart, the client's retry of the apply (same
    Idempotency-Key) gets the first answer byte for byte; without it, the job queue's
    recovery (or the sweep) finishes the run."""
    write = writes_of(provider)[operation]
    recorder = served.recorder(provider)
    before = await before_and_after(adapters)
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        request_id = await file_request(client, api_key, iban)
        if point == "before-the-call":
            recorder.hold(write)
        else:
            fault = {"operation": write, "mode": "lost_after_commit", "seconds": 10}
            await served.arm(provider, fault)
        key = uuid.uuid4().hex
        url = f"/v1/change-requests/{request_id}/apply"
        first = await client.post(url, json={}, headers=auth(api_key, key))
        assert first.status_code == 202, first.text
        if point == "before-the-call":
            await wait_until(lambda: write in recorder.held, what=f"{write} held")
        else:
            await wait_until(lambda: recorder.count(write) >= 1, what=f"{write} sent")
            await asyncio.sleep(0.3)  # the emulator commits, then keeps the answer back
        live.kill()
    killed = time.monotonic()

    live.start()  # no clock moved: the real time a restarted gateway takes to resume
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        if client_retries:
            retry = await client.post(url, json={}, headers=auth(api_key, key))
            assert retry.status_code == 202, retry.text
            assert retry.content == first.content
        done = await wait_for_status(client, api_key, request_id, {"applied", "apply_failed"})
    recovered = time.monotonic() - killed
    await assert_changed_exactly_once(adapters, before, done, iban)
    # a `lost_after_commit` answer comes 10 s late: the gateway is restarted before it
    assert recovered < RECOVERY_SECONDS, f"applied {recovered:.1f} s after the kill"
    print(f"kill -> applied: {recovered:.1f} s ({'with' if client_retries else 'no'} retry)")


async def test_a_run_whose_job_was_lost_is_resumed_when_a_worker_starts(
    api_key: str, served: Emulators, adapters: Providers, live: Gateway, iban: str
) -> None:
    """The gateway dies during the first step and its job is gone with it (a queue that lost
    it): the restarted worker finds the running run whose advisory lock nobody holds."""
    write = ZUORA_WRITES["create_sepa_method"]
    before = await before_and_after(adapters)
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        request_id = await file_request(client, api_key, iban)
        served.zuora_calls.hold(write)
        answer = await client.post(
            f"/v1/change-requests/{request_id}/apply", json={}, headers=auth(api_key, "lost")
        )
        assert answer.status_code == 202, answer.text
        await wait_until(lambda: write in served.zuora_calls.held, what=f"{write} held")
        live.kill()
    async with superuser() as connection:
        lost = await connection.execute(
            "DELETE FROM procrastinate_jobs WHERE task_name = 'fulfilment.advance_run'"
        )
    assert lost != "DELETE 0"
    live.start()
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        done = await wait_for_status(client, api_key, request_id, {"applied", "apply_failed"})
    await assert_changed_exactly_once(adapters, before, done, iban)


# -- T2: the provider commits, the answer is lost ---------------------------------------------


async def test_answers_lost_after_every_commit_end_in_one_change_never_a_failure(
    api_key: str, served: Emulators, adapters: Providers, live: Gateway, iban: str
) -> None:
    """Every write of both providers commits and then loses its answer (the connection drops
    mid-answer), once each; nobody is killed. The gateway settles each by asking again with
    the same key (Stripe replays its answer; the Zuora adapter finds the method by its
    mandate reference, and repeats a default or a close, which change nothing twice)."""
    before = await before_and_after(adapters)
    for provider in ("zuora", "stripe"):
        for write in writes_of(provider).values():
            fault = {"operation": write, "mode": "lost_after_commit", "seconds": 0}
            await served.arm(provider, fault)
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        request_id = await file_request(client, api_key, iban)
        answer = await client.post(
            f"/v1/change-requests/{request_id}/apply", json={}, headers=auth(api_key, "t2")
        )
        assert answer.status_code == 202, answer.text
        done = await wait_for_status(client, api_key, request_id, {"applied", "apply_failed"})
        left = [
            (await client.get(f"{base}/_emulator/operation-faults")).json()
            for base in (served.zuora, served.stripe)
        ]
    assert left == [[], {}], f"a fault never fired, so no answer was lost: {left}"
    await assert_changed_exactly_once(adapters, before, done, iban)
    actions = {row["action"] for row in await fetch("SELECT action FROM audit_records")}
    assert "change_request.apply.failed" not in actions


# -- T3: one Idempotency-Key, many applies at once --------------------------------------------

CONCURRENT_APPLIES = 1000


async def test_a_thousand_applies_with_one_key_call_each_provider_once_per_step(
    api_key: str, served: Emulators, adapters: Providers, live: Gateway, iban: str
) -> None:
    """1,000 POSTs of the same apply with the same key, 100 connections at a time: each
    answer is the stored 202 (byte for byte the same) or 409 `idempotency_request_in_progress`;
    no 5xx; each step's write reaches its provider exactly once."""
    before = await before_and_after(adapters)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=live.base_url, timeout=120, limits=limits) as client:
        request_id = await file_request(client, api_key, iban)
        url, headers = f"/v1/change-requests/{request_id}/apply", auth(api_key, "t3-one-key")
        answers = await asyncio.gather(
            *(client.post(url, json={}, headers=headers) for _ in range(CONCURRENT_APPLIES))
        )
        statuses = Counter(answer.status_code for answer in answers)
        assert set(statuses) <= {202, 409}, statuses
        stored = {answer.content for answer in answers if answer.status_code == 202}
        assert len(stored) == 1, f"{len(stored)} different 202 bodies"
        refused = {answer.json()["code"] for answer in answers if answer.status_code == 409}
        assert refused <= {"idempotency_request_in_progress"}, refused
        done = await wait_for_status(client, api_key, request_id, {"applied", "apply_failed"})
        replay = await client.post(url, json={}, headers=headers)
        assert (replay.status_code, replay.content) == (202, stored.pop())
    await assert_changed_exactly_once(adapters, before, done, iban)
    [run] = done["fulfilment"]["runs"]
    for provider in ("zuora", "stripe"):
        steps = Counter(s["operation"] for s in run["steps"] if s["provider"] == provider)
        for operation, write in writes_of(provider).items():
            assert served.recorder(provider).count(write) == steps[operation], (provider, write)


# -- T5: slow, refusing, rate-limited and unavailable providers -------------------------------


async def test_a_slow_provider_slows_the_run_and_never_the_api(
    api_key: str, served: Emulators, adapters: Providers, live: Gateway, iban: str
) -> None:
    """Zuora takes 5 s over the new method: the apply answers at once, reads answer while
    the step waits, the step is sent once and the change completes."""
    write = ZUORA_WRITES["create_sepa_method"]
    before = await before_and_after(adapters)
    await served.arm("zuora", {"operation": write, "mode": "slow", "seconds": 5})
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        request_id = await file_request(client, api_key, iban)
        started = time.monotonic()
        answer = await client.post(
            f"/v1/change-requests/{request_id}/apply", json={}, headers=auth(api_key, "t5-slow")
        )
        assert answer.status_code == 202, answer.text
        assert time.monotonic() - started < 5
        await wait_until(lambda: served.zuora_calls.count(write) == 1, what="the slow create")
        started = time.monotonic()
        read = await client.get(f"/v1/change-requests/{request_id}", headers=auth(api_key))
        assert read.json()["status"] == "applying" and time.monotonic() - started < 1
        done = await wait_for_status(client, api_key, request_id, {"applied", "apply_failed"})
    await assert_changed_exactly_once(adapters, before, done, iban)
    assert served.zuora_calls.count(write) == 1


async def test_503_bursts_are_retried_with_backoff_and_a_bounded_number_of_calls(
    api_key: str, served: Emulators, adapters: Providers, live: Gateway, iban: str
) -> None:
    """Three 503s in a row on one write of each provider (below the circuit's threshold):
    each write is repeated until it goes through, four calls in all, and the change
    completes with no step failed."""
    before = await before_and_after(adapters)
    bursts = {"zuora": ZUORA_WRITES["set_default_method"], "stripe": STRIPE_WRITES["close_method"]}
    for provider, write in bursts.items():
        fault = {"operation": write, "mode": "fail", "status": 503, "times": 3}
        await served.arm(provider, fault)
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        request_id = await file_request(client, api_key, iban)
        answer = await client.post(
            f"/v1/change-requests/{request_id}/apply", json={}, headers=auth(api_key, "t5-503")
        )
        assert answer.status_code == 202, answer.text
        done = await wait_for_status(client, api_key, request_id, {"applied", "apply_failed"})
    await assert_changed_exactly_once(adapters, before, done, iban)
    for provider, write in bursts.items():
        assert served.recorder(provider).count(write) == 4, (provider, write)


CIRCUIT = {"BG_PROVIDER_CIRCUIT_FAILURES": "2", "BG_PROVIDER_CIRCUIT_OPEN_SECONDS": "3"}
# The gateway's own pace, below the limit the emulators enforce (5 calls a second each).
PACED = {"BG_PROVIDER_CALLS_PER_SECOND": '{"zuora": 4, "stripe": 4}'}


async def test_a_rate_limited_provider_is_never_sent_more_than_its_limit(
    api_key: str, served: Emulators, adapters: Providers, live: Gateway, iban: str
) -> None:
    """Both emulators answer 429 above 5 calls a second; the gateway is told to keep to 4.
    Filing, the checks before Apply and every step keep to it: the change completes and no
    call is refused for the rate."""
    live.restart(PACED)
    try:
        before = await before_and_after(adapters)  # the test's own reads: not counted
        for provider in ("zuora", "stripe"):
            await served.switches(provider, rate_limit_per_second=5)
        async with httpx.AsyncClient(base_url=live.base_url, timeout=60) as client:
            request_id = await file_request(client, api_key, iban)
            answer = await client.post(
                f"/v1/change-requests/{request_id}/apply", json={}, headers=auth(api_key, "t5-r")
            )
            assert answer.status_code == 202, answer.text
            done = await wait_for_status(client, api_key, request_id, {"applied", "apply_failed"})
        refused = {p: dict(served.recorder(p).limited) for p in ("zuora", "stripe")}
        for provider in ("zuora", "stripe"):
            await served.switches(provider, rate_limit_per_second=0)
        assert refused == {"zuora": {}, "stripe": {}}, f"429s answered to the gateway: {refused}"
        await assert_changed_exactly_once(adapters, before, done, iban)
    finally:
        live.restart({})


async def test_an_outage_opens_the_circuit_answers_503_at_once_and_recovers(
    api_key: str, served: Emulators, adapters: Providers, live: Gateway, iban: str
) -> None:
    """Zuora answers 503 to every new method until the fault ends, both emulators enforce a
    rate limit of 5 calls a second. The run keeps retrying with backoff; the circuit opens,
    and another apply for Zuora answers 503 with Retry-After at once, starting nothing. When
    the fault ends, the run completes and the other apply goes through. No 429 all along."""
    write = ZUORA_WRITES["create_sepa_method"]
    live.restart(CIRCUIT)
    try:
        before = await before_and_after(adapters)
        await served.arm(
            "zuora", {"operation": write, "mode": "fail", "status": 503, "times": 10**6}
        )
        async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
            first = await file_request(client, api_key, iban)
            other = await file_request(client, api_key, next(IBANS), estudio_sol())
            answer = await client.post(
                f"/v1/change-requests/{first}/apply", json={}, headers=auth(api_key, "t5-a")
            )
            assert answer.status_code == 202, answer.text
            # two failed attempts (each the SOAP client's own four tries) open the circuit
            await wait_until(lambda: served.zuora_calls.count(write) >= 8, what="2 attempts")
            refused = await refused_while_open(client, api_key, other)
            assert refused.json()["code"] == "provider_unavailable", refused.text
            assert 1 <= int(refused.headers["Retry-After"]) <= 3
            assert (await read_status(client, api_key, other)) == "new"
            opened = served.zuora_calls.count(write)
            await asyncio.sleep(6)  # two open periods: a probe after each, nothing between
            calls_while_down = served.zuora_calls.count(write) - opened

            async with httpx.AsyncClient(timeout=5) as control:
                await control.delete(f"{served.zuora}/_emulator/operation-faults")
            ended = time.monotonic()
            done = await wait_for_status(client, api_key, first, {"applied", "apply_failed"})
            assert time.monotonic() - ended < 60
            retried = await applied_once_closed(client, api_key, other)
        await assert_changed_exactly_once(adapters, before, done, iban)
        assert retried["status"] == "applied", retried
        assert calls_while_down <= 8, f"{calls_while_down} calls into an outage"
    finally:
        live.restart({})


def estudio_sol() -> dict[str, Any]:
    """Another Zuora customer: the circuit is the provider's, not the customer's."""
    return {"zuora_account_id": "A00000103", "backoffice_id": "shop-103"}


async def read_status(client: httpx.AsyncClient, key: str, request_id: str) -> str:
    answer = await client.get(f"/v1/change-requests/{request_id}", headers=auth(key))
    return str(answer.json()["status"])


async def refused_while_open(
    client: httpx.AsyncClient, key: str, request_id: str
) -> httpx.Response:
    """Applies `request_id` until the open circuit refuses it; that refusal comes at once."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        started = time.monotonic()
        answer = await client.post(
            f"/v1/change-requests/{request_id}/apply", json={}, headers=auth(key, uuid.uuid4().hex)
        )
        if answer.status_code == 503:
            assert time.monotonic() - started < 2, "a refusal that waited for the provider"
            return answer
        assert answer.status_code != 202, f"applied while Zuora was down: {answer.text}"
        await asyncio.sleep(0.3)
    raise AssertionError("the circuit never opened")


async def applied_once_closed(
    client: httpx.AsyncClient, key: str, request_id: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = await client.post(
            f"/v1/change-requests/{request_id}/apply", json={}, headers=auth(key, uuid.uuid4().hex)
        )
        if answer.status_code == 202:
            return await wait_for_status(client, key, request_id, {"applied", "apply_failed"})
        assert answer.status_code == 503, answer.text
        await asyncio.sleep(0.5)
    raise AssertionError("the circuit never closed again")


async def test_an_idle_keep_alive_connection_is_kept_past_uvicorns_five_seconds(
    live: Gateway,
) -> None:
    """A client (or the proxy in front) that reuses a connection idle for a few seconds is
    answered on it: the gateway keeps idle connections for KEEP_ALIVE_SECONDS, longer than a
    load balancer's idle timeout, not uvicorn's 5 s (a reuse that raced that close was a
    reset request, as the 1,000 applies above once saw)."""
    host, port = live.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        for _ in range(2):
            writer.write(f"GET /health/live HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
            assert head.startswith(b"HTTP/1.1 200"), head
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            await asyncio.sleep(6)  # past uvicorn's default keep-alive of 5 s
    finally:
        writer.close()
