"""Every HTTP call to a provider, paced: never more than the gateway allows itself per provider
(settings `provider_calls_per_second`), reads and sign-ins included, whichever part of the
gateway makes it (pre-checks, Apply steps, support reads, jobs), and every SDK retry too.

The pace sits in the HTTP layer, as an httpx transport under stripe-python's HTTPXClient and
under the Zuora REST and SOAP sessions (zeep's AsyncTransport sends through an httpx client),
so that it counts HTTP calls, not port calls. One pace per provider per process.

A sliding window, as providers count: at most `rate` calls in any one second (a little more
than a second, for jitter), in bursts of at most `BURST`: a few reads made at once go at once
(the pre-checks read an account's methods, debits and contact side by side), a crowd of calls
goes at the rate, spread over the second (a provider's own busy moments then never bunch a
whole second's worth of calls into its next second). Each call reserves its turn once, in
order (no crowd of waiters woken for every free turn), and the window counts when calls
really left. When the provider says it is over its limit (a 429, or a 5xx carrying
Retry-After, Zuora SOAP's REQUEST_EXCEEDED_RATE fault), every caller of that provider waits:
Retry-After when given, else a backoff that doubles per refusal in a row.

aiolimiter (the leaky bucket Apply used) lets a bucket's worth through on top of the rate in
the same second and knows no shared pause; this is the few lines that do both.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from email.utils import parsedate_to_datetime

import httpx

from gateway.core.log import get_logger

# A window a little longer than a second: calls that reach the provider closer together than
# they left (a busy event loop on either side, the network) must not make one of its seconds
# hold a call more than the rate.
WINDOW_SECONDS = 1.08
BURST = 10  # calls at once at most
FIRST_BACKOFF_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 60.0
# Statuses that say "over the limit" when they carry Retry-After (Zuora's SOAP face answers
# its rate fault with a 500); a 429 says it with or without.
_LIMITED_WITH_RETRY_AFTER = frozenset({429, 500, 503})
_CLOCK_TICK = time.get_clock_info("monotonic").resolution
_log = get_logger("adapters.pacing")


class ProviderPace:
    """The turn of each call to one provider."""

    def __init__(self, provider: str, calls_per_second: float | None) -> None:
        self.provider = provider
        self._per_window = 0  # 0: unpaced
        self._window = WINDOW_SECONDS
        self._turns: deque[float] = deque()  # the latest turns given, in order (some ahead)
        self._departed: deque[float] = deque()  # when the latest calls really left
        self.set_rate(calls_per_second)
        self._paused_until = 0.0
        self._refusals_in_a_row = 0
        self.refusals = 0  # over-the-limit answers seen, for tests and logs

    def set_rate(self, calls_per_second: float | None) -> None:
        """`calls_per_second` calls a second as `per_window` calls per window, `windows` of
        them a second (per_window * windows <= the rate, as close as the bursts allow); below
        1 a second, one call per 1/rate seconds."""
        if not calls_per_second:
            self._per_window, self._window = 0, WINDOW_SECONDS
            return
        if calls_per_second < 1:
            self._per_window, self._window = 1, WINDOW_SECONDS / calls_per_second
        else:
            whole = math.floor(calls_per_second)
            per_window = max(range(min(BURST, whole), 0, -1), key=lambda k: k * (whole // k))
            self._per_window = per_window
            self._window = WINDOW_SECONDS / (whole // per_window)
        self._turns = deque(self._turns, maxlen=self._per_window)
        self._departed = deque(self._departed, maxlen=self._per_window)

    def _reserve(self, now: float) -> float:
        """The earliest time after every turn given so far at which the window holds room,
        reserved. No await in here: one event loop hands turns out one at a time."""
        start = max(now, self._paused_until, self._turns[-1] if self._turns else now)
        if len(self._turns) == self._per_window:
            start = max(start, self._turns[0] + self._window)
        self._turns.append(start)
        return start

    def _room_in(self, now: float) -> float:
        """Seconds until the calls that really left leave room for one more (0: now)."""
        if not self._per_window or len(self._departed) < self._per_window:
            return 0.0
        return max(0.0, self._departed[0] + self._window - now)

    async def wait_turn(self) -> None:
        """Until this call may go: its turn in the window, after any pause the provider
        asked for."""
        if not self._per_window and time.monotonic() >= self._paused_until:
            return
        while True:
            now = time.monotonic()
            start = self._reserve(now) if self._per_window else self._paused_until
            if start > now:
                # asyncio's timers may fire up to a clock tick early: add one
                await asyncio.sleep(start - now + _CLOCK_TICK)
            now = time.monotonic()
            if now < self._paused_until:
                continue  # a refusal came in while this call waited: a new turn after it
            # Turns are planned; a call can leave late (a busy event loop), and the window
            # counts when calls really left: wait for room among those too.
            while (left := self._room_in(now)) > 0:
                await asyncio.sleep(left + _CLOCK_TICK)
                now = time.monotonic()
            if now < self._paused_until:
                continue
            if self._per_window:
                self._departed.append(now)
            return

    def note(self, status: int, retry_after: str | None) -> None:
        """Learn from an answer: over the limit pauses every caller; anything else resets the
        backoff."""
        limited = status == 429 or (status in _LIMITED_WITH_RETRY_AFTER and bool(retry_after))
        if not limited:
            self._refusals_in_a_row = 0
            return
        self.refusals += 1
        self._refusals_in_a_row += 1
        backoff = FIRST_BACKOFF_SECONDS * 2 ** (self._refusals_in_a_row - 1)
        seconds = min(_seconds(retry_after) or backoff, LONGEST_PAUSE_SECONDS)
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        _log.warning(
            "provider over its rate limit; pausing its calls",
            provider=self.provider,
            status=status,
            seconds=round(seconds, 2),
        )


def _seconds(retry_after: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date)."""
    if not retry_after:
        return None
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(retry_after).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


_paces: dict[str, ProviderPace] = {}


def pace_of(provider: str, calls_per_second: float | None) -> ProviderPace:
    """The process's pace for `provider` (the latest rate given wins: one setting per
    process)."""
    pace = _paces.get(provider)
    if pace is None:
        pace = _paces[provider] = ProviderPace(provider, calls_per_second)
    else:
        pace.set_rate(calls_per_second)
    return pace


class PacedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that takes its turn before each request and tells the pace what
    the provider answered."""

    def __init__(self, pace: ProviderPace, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.pace = pace
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.pace.wait_turn()
        response = await self._inner.handle_async_request(request)
        self.pace.note(response.status_code, response.headers.get("Retry-After"))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def paced_client(
    provider: str, calls_per_second: float | None, **options: object
) -> httpx.AsyncClient:
    """An httpx client whose every request keeps to `provider`'s pace (`options` as
    httpx.AsyncClient takes them; `verify` goes to the transport)."""
    verify = options.pop("verify", True)
    inner = httpx.AsyncHTTPTransport(verify=verify)  # type: ignore[arg-type]
    transport = PacedTransport(pace_of(provider, calls_per_second), inner)
    return httpx.AsyncClient(transport=transport, **options)  # type: ignore[arg-type]
