"""Where rate-limit windows are counted, so that every process and machine shares one budget.

By default the gateway's own PostgreSQL (`PostgresLimitsStorage`, table `rate_limit_windows`);
`BG_LIMITS_STORAGE_URI` may name a `limits` storage instead: Redis ("async+redis://host:6379/0")
or "memory://" (this process only). Every limit uses the sliding-window counter, whichever the
store, so that a budget behaves the same everywhere. A store that cannot be reached refuses with
the database outage's 503 and Retry-After: letting everyone through would switch the limits off.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import asyncpg
import redis.exceptions
from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, SlidingWindowCounterSupport, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import ConfigurationError, StorageError
from limits.storage import storage_from_string
from limits.util import WindowStats

from gateway.core.db.connection import engine
from gateway.core.db.outage import is_database_outage, unavailable
from settings import Settings, SettingsError

PURGE_EVERY_SECONDS = 60.0
REDIS_TIMEOUT_SECONDS = 1.0
_SLIDING_ONLY = "the gateway counts every limit in a sliding window (SharedRateLimiter)"

_NOW = "extract(epoch FROM statement_timestamp())"
# The stored row's windows as seen from the current window number (`excluded.window_number`).
_PREVIOUS = (
    "CASE held.window_number - excluded.window_number WHEN 0 THEN held.previous_count"
    " WHEN -1 THEN held.current_count ELSE 0 END"
)
_CURRENT = (
    "CASE WHEN held.window_number = excluded.window_number THEN held.current_count ELSE 0 END"
)
# One statement: shift the windows, add the hit only if the weighted count stays within the limit
# (the previous window weighs what is left of the current one, as in `limits`' own stores).
# $1 key, $2 window length in seconds, $3 limit, $4 amount.
_ACQUIRE = f"""
INSERT INTO rate_limit_windows AS held
       (key, window_number, current_count, previous_count, expires_at)
SELECT $1, floor({_NOW} / $2::integer), $4::integer, 0,
       statement_timestamp() + make_interval(secs => 2 * $2::integer)
ON CONFLICT (key) DO UPDATE
   SET previous_count = {_PREVIOUS}, current_count = {_CURRENT} + excluded.current_count,
       window_number = excluded.window_number, expires_at = excluded.expires_at
 WHERE floor({_PREVIOUS} * (1 - mod({_NOW} / $2::integer, 1)))
       + {_CURRENT} + excluded.current_count <= $3::integer
RETURNING current_count
"""  # noqa: S608 (constants and $n placeholders)
_WINDOWS = f"""
SELECT {_NOW} / $2::integer AS position, held.window_number, held.current_count,
       held.previous_count
  FROM (SELECT 1) AS clock LEFT JOIN rate_limit_windows AS held ON held.key = $1
"""  # noqa: S608 (constants and $n placeholders)


class PostgresLimitsStorage(Storage, SlidingWindowCounterSupport):
    """`limits` storage on the gateway's pool. Each statement runs on its own, outside any
    transaction of the caller's: a rolled-back request must not give back a counted failure."""

    STORAGE_SCHEME = None

    def __init__(self) -> None:
        super().__init__()
        self._next_purge = 0.0

    @property
    def base_exceptions(self) -> tuple[type[Exception], ...]:
        return (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)

    async def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        if amount > limit:
            return False
        await self._purge_now_and_then()
        return await _pool().fetchval(_ACQUIRE, key, expiry, limit, amount) is not None

    async def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        row = await _pool().fetchrow(_WINDOWS, key, expiry)
        assert row is not None
        position: Decimal = row["position"]
        current_number = math.floor(position)
        left = (1 - float(position - current_number)) * expiry  # of the current window
        previous, current = 0, 0
        if row["window_number"] == current_number:
            previous, current = row["previous_count"], row["current_count"]
        elif row["window_number"] == current_number - 1:
            previous = row["current_count"]
        return previous, left if previous else 0.0, current, left + expiry

    async def clear_sliding_window(self, key: str, expiry: int) -> None:
        await self.clear(key)

    # `Storage` requires the fixed-window counter of every store; every limit here is a sliding
    # window (SharedRateLimiter), so these are never called.
    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError(_SLIDING_ONLY)

    async def get(self, key: str) -> int:
        raise NotImplementedError(_SLIDING_ONLY)

    async def get_expiry(self, key: str) -> float:
        raise NotImplementedError(_SLIDING_ONLY)

    async def check(self) -> bool:
        try:
            return bool(await _pool().fetchval("SELECT true"))
        except Exception:
            return False

    async def reset(self) -> int | None:
        status = await _pool().execute("DELETE FROM rate_limit_windows")
        return int(status.split()[-1])

    async def clear(self, key: str) -> None:
        await _pool().execute("DELETE FROM rate_limit_windows WHERE key = $1", key)

    async def _purge_now_and_then(self) -> None:
        """Delete expired rows, at most once a minute per process: cheaper than a job."""
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS
        await _pool().execute(
            "DELETE FROM rate_limit_windows WHERE expires_at < statement_timestamp()"
        )


def _pool() -> asyncpg.Pool:
    pool = engine().pool
    assert pool is not None, "start_pool() first"
    return pool


def limits_storage(settings: Settings) -> Storage:
    """The store `BG_LIMITS_STORAGE_URI` names (PostgreSQL when unset). The URI may carry a
    password: no message quotes it, only its scheme."""
    uri = settings.limits_storage_uri
    if not uri:
        return PostgresLimitsStorage()
    scheme = uri.partition("://")[0]
    if scheme.removeprefix("async+") == "memory":
        return MemoryStorage()
    if not scheme.startswith("async+"):
        raise SettingsError(
            f"BG_LIMITS_STORAGE_URI must be an async storage URI (async+redis://...), not "
            f"{scheme}://..."
        )
    try:
        storage = storage_from_string(
            uri,
            implementation="redispy",
            wrap_exceptions=True,
            # A Redis that hangs answers as one that is down (503), not a request held for ever.
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
    except ConfigurationError:
        raise SettingsError(
            f"BG_LIMITS_STORAGE_URI: {scheme}:// is not a storage `limits` knows "
            "(async+redis://, async+rediss://, async+memory://)."
        ) from None
    if not isinstance(storage, Storage) or not isinstance(storage, SlidingWindowCounterSupport):
        raise SettingsError("BG_LIMITS_STORAGE_URI names a store without sliding windows.")
    return storage


class SharedRateLimiter(SlidingWindowCounterRateLimiter):
    """The sliding-window counter, answering an unreachable store with the outage's 503."""

    async def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        async with _refused_when_unreachable():
            return await super().hit(item, *identifiers, cost=cost)

    async def test(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        async with _refused_when_unreachable():
            return await super().test(item, *identifiers, cost=cost)

    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        async with _refused_when_unreachable():
            return await super().get_window_stats(item, *identifiers)


@asynccontextmanager
async def _refused_when_unreachable() -> AsyncIterator[None]:
    try:
        yield
    except Exception as error:
        if is_database_outage(error) or _redis_unreachable(error):
            raise unavailable() from error
        raise


def _redis_unreachable(error: BaseException) -> bool:
    cause = error.__cause__ if isinstance(error, StorageError) else error
    return isinstance(cause, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError)
