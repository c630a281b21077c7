"""One retry policy for calls to providers: a few attempts, exponential backoff with jitter (so
that many workers refused at once do not come back at once), and the last error re-raised."""

from __future__ import annotations

from collections.abc import Callable

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter


def provider_retrying(
    retryable: Callable[[BaseException], bool], *, attempts: int, max_backoff_seconds: float
) -> AsyncRetrying:
    return AsyncRetrying(
        retry=retry_if_exception(retryable),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential_jitter(
            multiplier=0.1, max=max_backoff_seconds, jitter=min(0.5, max_backoff_seconds)
        ),
        reraise=True,
    )
