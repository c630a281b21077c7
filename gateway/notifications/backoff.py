"""When a failing delivery is tried again: the retry schedule (BG_NOTIFICATION_RETRY_SCHEDULE)
gives the seconds to wait after each failed try; once it is spent the delivery has failed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta


def retry_delay(schedule: Sequence[float], failed_tries: int) -> timedelta | None:
    """The wait after the `failed_tries`-th failed try (1 = the first), or None when the
    schedule is spent: a delivery gets len(schedule) + 1 tries in all."""
    if failed_tries < 1 or failed_tries > len(schedule):
        return None
    return timedelta(seconds=schedule[failed_tries - 1])


def next_attempt_at(schedule: Sequence[float], failed_tries: int, now: datetime) -> datetime | None:
    delay = retry_delay(schedule, failed_tries)
    return None if delay is None else now + delay


def total_retry_window(schedule: Sequence[float]) -> timedelta:
    """From the first try to the last: how long a receiver may be down without losing one."""
    return timedelta(seconds=sum(schedule))
