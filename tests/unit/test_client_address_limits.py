"""Per-address failure limits, and the setting that says who may name a client's address."""

from __future__ import annotations

import asyncio

import pytest

from gateway.edge.failure_limit import FailureLimit, TooManyFailuresError
from gateway.serving import uvicorn_options
from settings import SettingsError, get_settings, reset_settings


@pytest.fixture(autouse=True)
def fresh_settings():  # type: ignore[no-untyped-def]
    reset_settings()
    yield
    reset_settings()


async def test_a_burst_of_wrong_guesses_gets_no_more_tries_than_the_allowance() -> None:
    limit = FailureLimit(per_minute=3, namespace="test")
    checked = 0

    async def guess() -> bool:
        nonlocal checked
        try:
            async with limit.attempt("192.0.2.1") as attempt:
                checked += 1
                await asyncio.sleep(0.01)  # the slow check (a password hash) of a wrong guess
                attempt.failed = True
            return True
        except TooManyFailuresError:
            return False

    admitted = await asyncio.gather(*(guess() for _ in range(20)))
    assert sum(admitted) == checked == 3


async def test_a_busy_client_with_many_checks_in_flight_is_not_refused_where_bursts_are_free() -> (
    None
):
    # API keys: 200 valid requests at once from one address behind a NAT must all pass.
    limit = FailureLimit(per_minute=3, namespace="test", count_in_flight=False)

    async def valid_key() -> bool:
        try:
            async with limit.attempt("192.0.2.1"):
                await asyncio.sleep(0.01)
            return True
        except TooManyFailuresError:
            return False

    assert all(await asyncio.gather(*(valid_key() for _ in range(200))))


async def test_successes_use_up_nothing_and_an_address_over_the_limit_waits() -> None:
    limit = FailureLimit(per_minute=2, namespace="test")
    for _ in range(10):
        async with limit.attempt("192.0.2.1"):
            pass  # right key or password
    for _ in range(2):
        async with limit.attempt("192.0.2.1") as attempt:
            attempt.failed = True
    with pytest.raises(TooManyFailuresError) as refused:
        async with limit.attempt("192.0.2.1"):
            pass
    assert 1 <= refused.value.retry_after_seconds <= 60
    async with limit.attempt("192.0.2.2"):
        pass  # another address is untouched


def test_no_proxy_is_trusted_unless_configured() -> None:
    options = uvicorn_options(get_settings())
    assert options["proxy_headers"] is False
    assert options["forwarded_allow_ips"] == []


def test_trusted_proxies_are_addresses_or_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BG_TRUSTED_PROXIES", "10.0.0.5, 10.1.0.0/16,::1")
    options = uvicorn_options(get_settings())
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == ["10.0.0.5/32", "10.1.0.0/16", "::1/128"]


@pytest.mark.parametrize("value", ["*", "proxy.internal", "10.0.0.300"])
def test_a_wildcard_or_host_name_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("BG_TRUSTED_PROXIES", value)
    with pytest.raises(SettingsError, match="BG_TRUSTED_PROXIES"):
        get_settings()


async def test_an_ipv6_host_cannot_dodge_the_limit_by_changing_address_in_its_64() -> None:
    limit = FailureLimit(per_minute=2, namespace="test")
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::2"):
        async with limit.attempt(host) as attempt:
            attempt.failed = True
    with pytest.raises(TooManyFailuresError):
        async with limit.attempt("2001:db8:1:2:ffff::9"):
            pass
    async with limit.attempt("2001:db8:1:3::1"):  # another /64: another network
        pass
    async with limit.attempt("::ffff:192.0.2.1"):  # an IPv4-mapped address counts as its IPv4
        pass


async def _fail(limit: FailureLimit, address: str) -> None:
    async with limit.attempt(address) as attempt:
        attempt.failed = True


async def _succeed(limit: FailureLimit, address: str) -> bool:
    """True when the attempt was let through."""
    try:
        async with limit.attempt(address):
            return True
    except TooManyFailuresError:
        return False


async def test_a_key_limit_asks_the_shared_store_only_about_addresses_seen_failing() -> None:
    """Two processes sharing one store: the one that never saw the address fail lets one
    attempt through without a round trip, then checks it like the other."""
    from limits.aio.storage import MemoryStorage

    shared = MemoryStorage()
    here = FailureLimit(2, "failed-auth", count_in_flight=False, storage=shared)
    elsewhere = FailureLimit(2, "failed-auth", count_in_flight=False, storage=shared)
    for _ in range(2):
        await _fail(elsewhere, "198.51.100.7")
    assert not await _succeed(elsewhere, "198.51.100.7")  # over, even with a right key

    asked = 0
    original_test = here._limiter.test

    async def counting_test(*args: object, **kwargs: object) -> bool:
        nonlocal asked
        asked += 1
        return await original_test(*args, **kwargs)  # type: ignore[arg-type]

    here._limiter.test = counting_test  # type: ignore[method-assign]
    assert await _succeed(here, "203.0.113.9")  # a clean client: no round trip
    assert await _succeed(here, "198.51.100.7")  # not seen failing here yet
    assert asked == 0
    await _fail(here, "198.51.100.7")  # the one attempt beyond the allowance this process lets by
    assert not await _succeed(here, "198.51.100.7")  # now checked here too: refused
    assert asked == 1
