"""The pace of HTTP calls to a provider: at most the rate in any second, and a refusal for the rate
pauses every caller of that provider, not just the one refused."""

from __future__ import annotations

import asyncio
import time

import httpx

from adapters.pacing import BURST, PacedTransport, ProviderPace, pace_of
from adapters.recent import RecentReads


def windows(times: list[float], seconds: float = 1.0) -> int:
    """The most calls in any window of `seconds` (half-open, as the emulators count)."""
    return max(sum(1 for t in times if start <= t < start + seconds) for start in times)


async def test_a_crowd_goes_at_the_rate_and_a_few_calls_at_once() -> None:
    """40 calls at once, 20 a second allowed: a burst of 5 at once, the rest in bursts of 5
    spread over each second; no second ever holds more than 20."""
    pace = ProviderPace("test", calls_per_second=20)
    sent: list[float] = []

    async def call() -> None:
        await pace.wait_turn()
        sent.append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(*(call() for _ in range(40)))
    assert sum(1 for t in sent if t - started < 0.05) == BURST
    assert windows(sent) <= 20
    assert time.monotonic() - started >= 1.5  # 40 calls at 20 a second


async def test_a_rate_below_one_a_second_spaces_each_call() -> None:
    pace = ProviderPace("test", calls_per_second=4)
    pace.set_rate(0.5)
    sent: list[float] = []
    for _ in range(2):
        await pace.wait_turn()
        sent.append(time.monotonic())
    assert sent[1] - sent[0] >= 2.0


async def test_a_429_pauses_every_caller_for_its_retry_after() -> None:
    pace = ProviderPace("test", calls_per_second=100)
    answers = iter([429] + [200] * 20)
    sent: list[float] = []

    def provider(request: httpx.Request) -> httpx.Response:
        sent.append(time.monotonic())
        status = next(answers)
        return httpx.Response(status, headers={"Retry-After": "1"} if status == 429 else {})

    client = httpx.AsyncClient(transport=PacedTransport(pace, httpx.MockTransport(provider)))
    async with client:
        first = await client.get("http://provider.test/")
        assert first.status_code == 429
        refused_at = time.monotonic()
        statuses = await asyncio.gather(*(client.get("http://provider.test/") for _ in range(5)))
    assert [s.status_code for s in statuses] == [200] * 5
    assert min(sent[1:]) - refused_at >= 0.95  # nobody went before the provider's Retry-After
    assert pace.refusals == 1


async def test_a_limit_without_retry_after_backs_off_doubling() -> None:
    pace = ProviderPace("test", calls_per_second=None)
    pace.note(429, None)
    first = pace._paused_until - time.monotonic()
    pace.note(429, None)
    second = pace._paused_until - time.monotonic()
    assert 0.9 <= first <= 1.0 and 1.9 <= second <= 2.0
    pace.note(200, None)  # an answer resets the backoff
    assert pace._refusals_in_a_row == 0


def test_a_soap_rate_fault_with_retry_after_counts_and_a_bare_500_does_not() -> None:
    pace = ProviderPace("test", calls_per_second=None)
    pace.note(500, None)
    assert pace.refusals == 0
    pace.note(500, "2")
    assert pace.refusals == 1


def test_one_pace_per_provider_in_a_process() -> None:
    assert pace_of("zuora-test", 5) is pace_of("zuora-test", 5)
    assert pace_of("zuora-test", 5) is not pace_of("stripe-test", 5)


def test_a_recent_read_is_forgotten_after_a_write_or_its_moment() -> None:
    writes = 0
    recent = RecentReads[str](seconds=0.05, writes=lambda: writes)
    recent.put("cus_1", "customer as read")
    assert recent.get("cus_1") == "customer as read"
    writes += 1  # the adapter sent a write: what it read before may be stale
    assert recent.get("cus_1") is None
    recent.put("cus_1", "read again")
    time.sleep(0.06)
    assert recent.get("cus_1") is None
