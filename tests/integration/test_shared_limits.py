"""Rate limits shared by every gateway process: the PostgreSQL store on its own, then two real
server processes on one database (and on one Redis) granting one budget between them, and a
store that cannot be reached refusing with 503 rather than letting everything through.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from limits import RateLimitItemPerHour
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from audit.entry import SYSTEM
from gateway.core.db.connection import fetch, fetch_value
from gateway.core.errors import BillingError, ErrorCode
from gateway.edge.limits_storage import PostgresLimitsStorage
from gateway.edge.rate_limit import FAILED_AUTHENTICATIONS_PER_MINUTE, ApiKeyRateLimiter
from gateway.staff.roles import Role
from gateway.staff.service import create_staff
from tests.database import auth, issue_test_key, serving
from tests.emulators import free_port
from tests.integration.staff import PASSWORD, csrf_field

pytestmark = pytest.mark.timeout(240)
URL = "/v1/change-requests"
BAD_KEY = {"Authorization": "Bearer bgk_guess_guess"}
SIGN_INS_PER_MINUTE = 3
REDIS_URI = "async+redis://127.0.0.1:6379/13"
# Each test speaks from a loopback address of its own: no other test's failures count against it.
_addresses = (f"127.0.0.{n}" for n in itertools.count(40))


async def early_in_the_window(window_seconds: int, needed_seconds: float) -> None:
    """Wait for the next window if this one ends within `needed_seconds`: across a boundary the
    sliding-window counter weighs the previous window, and an exact count would be off by one."""
    left = window_seconds - time.time() % window_seconds
    if left < needed_seconds:
        await asyncio.sleep(left + 0.05)


# --- the PostgreSQL store on its own


async def test_a_window_admits_exactly_its_limit_even_under_concurrent_hits(
    database_url: str,
) -> None:
    limiter = SlidingWindowCounterRateLimiter(PostgresLimitsStorage())
    budget = RateLimitItemPerHour(20)
    await early_in_the_window(3600, 30)
    admitted = await asyncio.gather(*(limiter.hit(budget, "key-a") for _ in range(50)))
    assert sum(admitted) == 20
    assert not await limiter.test(budget, "key-a")
    assert await limiter.hit(budget, "key-b")  # another key has a budget of its own
    stats = await limiter.get_window_stats(budget, "key-a")
    assert stats.remaining == 0
    assert 0 < stats.reset_time - time.time() <= 3600
    assert await fetch_value("SELECT count(*) FROM rate_limit_windows") == 2  # one row a key


async def test_hits_past_the_window_count_for_nothing_and_a_cleared_key_starts_again(
    database_url: str,
) -> None:
    storage = PostgresLimitsStorage()
    await early_in_the_window(1, 0.5)
    assert [await storage.acquire_sliding_window_entry("k", 2, 1) for _ in range(3)] == [
        True,
        True,
        False,
    ]
    previous, _, current, current_ttl = await storage.get_sliding_window("k", 1)
    assert (previous, current) == (0, 2)
    assert 1 < current_ttl <= 2
    await asyncio.sleep(2.1)  # the window and the one after it are over
    previous, previous_ttl, current, current_ttl = await storage.get_sliding_window("k", 1)
    assert (previous, previous_ttl, current) == (0, 0.0, 0)
    assert 1 < current_ttl <= 2
    assert await storage.acquire_sliding_window_entry("k", 2, 1)
    await storage.clear_sliding_window("k", 1)
    assert [await storage.acquire_sliding_window_entry("k", 2, 60) for _ in range(2)] == [
        True,
        True,
    ]
    assert await storage.reset() == 1
    assert await fetch("SELECT * FROM rate_limit_windows") == []


async def test_the_previous_window_weighs_what_is_left_of_the_current_one(
    database_url: str,
) -> None:
    storage = PostgresLimitsStorage()
    await early_in_the_window(4, 3.5)  # at most half a second into a 4-second window
    for _ in range(4):
        assert await storage.acquire_sliding_window_entry("w", 4, 4)
    await asyncio.sleep(4 - time.time() % 4 + 1.2)  # 1.2-1.7 s into the next window
    # The previous window's 4 hits weigh 4 x (2.3 to 2.8 s left) / 4 s, rounded down 2: two
    # more hits are admitted, then no more.
    admitted = [await storage.acquire_sliding_window_entry("w", 4, 4) for _ in range(4)]
    assert admitted == [True, True, False, False]


async def test_expired_rows_are_deleted_by_a_later_hit(database_url: str) -> None:
    await fetch(
        "INSERT INTO rate_limit_windows VALUES ('old', 1, 5, 0, now() - interval '1 second')"
    )
    assert await PostgresLimitsStorage().acquire_sliding_window_entry("new", 5, 60)
    assert [row["key"] for row in await fetch("SELECT key FROM rate_limit_windows")] == ["new"]


# --- a store that cannot be reached


async def _unreachable_pool() -> asyncpg.Pool:
    """A pool whose every connection is refused, as during a database outage."""
    pool = await asyncpg.create_pool(f"postgresql://x@127.0.0.1:{free_port()}/x", min_size=0)
    assert pool is not None
    return pool


@pytest.mark.parametrize("store", ["postgresql", "redis"])
async def test_an_unreachable_store_refuses_with_503_and_retry_after(
    database_url: str, monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    from gateway.edge import limits_storage
    from settings import get_settings

    if store == "redis":
        uri = f"async+redis://127.0.0.1:{free_port()}/0"
        settings = get_settings().model_copy(update={"limits_storage_uri": uri})
        storage = limits_storage.limits_storage(settings)
    else:
        dead = await _unreachable_pool()
        monkeypatch.setattr(limits_storage, "_pool", lambda: dead)
        storage = limits_storage.PostgresLimitsStorage()
    limiter = ApiKeyRateLimiter(10, storage)
    with pytest.raises(BillingError) as refused:
        await limiter.check("some-key", None)
    assert refused.value.code is ErrorCode.SERVICE_UNAVAILABLE
    assert refused.value.headers["Retry-After"]
    # An address this process has not seen fail is not asked about (no round trip); one that
    # failed here is, and that answer is refused the same way.
    async with limiter.authentication("192.0.2.1"):
        pass
    limiter._failures._suspect("192.0.2.1")
    with pytest.raises(BillingError) as refused_suspect:
        async with limiter.authentication("192.0.2.1"):
            pass
    assert refused_suspect.value.code is ErrorCode.SERVICE_UNAVAILABLE


async def test_the_api_answers_503_when_the_database_holding_the_limits_is_gone(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.app import create_app
    from gateway.edge import limits_storage
    from settings import get_settings

    key = await issue_test_key()
    dead = await _unreachable_pool()
    monkeypatch.setattr(limits_storage, "_pool", lambda: dead)
    app = create_app(get_settings())
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        answer = await client.get(URL, headers=auth(key))
        page = await client.get("/staff/login")
        sign_in = await client.post(
            "/staff/login",
            data={"_csrf_token": csrf_field(page), "username": "x", "password": "y"},
        )
    for refused in (answer, sign_in):
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "service_unavailable"
        assert int(refused.headers["retry-after"]) > 0


# --- two server processes on one database


@contextlib.contextmanager
def _two_servers(
    database_url: str, folder: Path, extra: dict[str, str]
) -> Iterator[tuple[str, str]]:
    extra = {"BG_STAFF_SIGN_INS_PER_MINUTE": str(SIGN_INS_PER_MINUTE), **extra}
    with (
        serving(database_url, folder / "first.log", extra) as first,
        serving(database_url, folder / "second.log", extra) as second,
    ):
        yield first.base_url, second.base_url


@pytest.fixture(scope="module")
def on_postgresql(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    extra = {"BG_LIMITS_STORAGE_URI": ""}  # unset: the gateway's own PostgreSQL
    with _two_servers(database_url, tmp_path_factory.mktemp("shared-pg"), extra) as servers:
        yield servers


@pytest.fixture(scope="module")
def on_redis(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    import redis

    try:
        # this test's own database number: a window left by an earlier run starts empty
        redis.Redis.from_url(REDIS_URI.removeprefix("async+"), socket_timeout=2).flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis answers on 127.0.0.1:6379")
    extra = {"BG_LIMITS_STORAGE_URI": REDIS_URI}
    with _two_servers(database_url, tmp_path_factory.mktemp("shared-redis"), extra) as servers:
        yield servers


def _clients(servers: tuple[str, str]) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    """One client per server, both from the same address of this test's own."""
    address = next(_addresses)

    def client(base_url: str) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        return httpx.AsyncClient(transport=transport, base_url=base_url, timeout=10)

    return client(servers[0]), client(servers[1])


async def _an_api_key_budget_is_one_budget_across_processes(servers: tuple[str, str]) -> None:
    key = await issue_test_key(rate_limit_per_minute=20)
    first, second = _clients(servers)
    await early_in_the_window(60, 20)
    async with first, second:
        answers = [await client.get(URL, headers=auth(key)) for client in (first, second) * 20]
    statuses = [answer.status_code for answer in answers]
    assert statuses == [200] * 20 + [429] * 20
    for refused in answers[20:]:
        assert refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "20 requests a minute" in refused.json()["detail"]


async def _failed_authentications_are_counted_once_across_processes(
    servers: tuple[str, str],
) -> None:
    first, second = _clients(servers)
    key = await issue_test_key()
    allowance = FAILED_AUTHENTICATIONS_PER_MINUTE
    await early_in_the_window(60, 30)
    async with first, second:
        clients = itertools.cycle((first, second))
        failed = [
            (await next(clients).get(URL, headers=BAD_KEY)).status_code for _ in range(allowance)
        ]
        over = [await client.get(URL, headers=BAD_KEY) for client in (first, second)]
        valid = [await client.get(URL, headers=auth(key)) for client in (first, second)]
    assert failed == [401] * allowance
    for refused in over + valid:  # over the allowance even a valid key waits, on either process
        assert refused.status_code == 429, refused.text
        assert refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60


async def _the_staff_sign_in_throttle_holds_across_processes(servers: tuple[str, str]) -> None:
    await create_staff("sam", "sam@example.com", Role.SPECIALIST, SYSTEM, password=PASSWORD)
    first, second = _clients(servers)

    async def sign_in(client: httpx.AsyncClient, password: str) -> int:
        page = await client.get("/staff/login")
        form = {"_csrf_token": csrf_field(page), "username": "sam", "password": password}
        return (await client.post("/staff/login", data=form)).status_code

    await early_in_the_window(60, 20)
    async with first, second:
        clients = itertools.cycle((first, second))
        wrongs = [await sign_in(next(clients), "guess") for _ in range(SIGN_INS_PER_MINUTE)]
        refused = [await sign_in(client, "guess") for client in (first, second)]
        right = [await sign_in(client, PASSWORD) for client in (first, second)]
    assert wrongs == [401] * SIGN_INS_PER_MINUTE
    assert refused == [429, 429]
    assert right == [429, 429]  # the address waits out the minute, right password or not


async def test_an_api_key_budget_is_one_budget_across_two_processes(
    on_postgresql: tuple[str, str],
) -> None:
    await _an_api_key_budget_is_one_budget_across_processes(on_postgresql)


async def test_failed_authentications_are_counted_once_across_two_processes(
    on_postgresql: tuple[str, str],
) -> None:
    await _failed_authentications_are_counted_once_across_processes(on_postgresql)


async def test_the_staff_sign_in_throttle_holds_across_two_processes(
    on_postgresql: tuple[str, str],
) -> None:
    await _the_staff_sign_in_throttle_holds_across_processes(on_postgresql)


async def test_with_redis_as_the_store_the_budgets_are_global_too(
    on_redis: tuple[str, str],
) -> None:
    await _an_api_key_budget_is_one_budget_across_processes(on_redis)
    await _failed_authentications_are_counted_once_across_processes(on_redis)
