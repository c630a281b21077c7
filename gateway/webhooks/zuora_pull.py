"""Fill the gaps Zuora's failed callouts leave: every minute, read Zuora's callout history
(failed calls only) since the last pull and keep each notification in the inbox, exactly as if
its callout had arrived. The inbox is unique on the notification id, so a notification that
did arrive (or was pulled before) changes nothing: pulling overlapping windows is harmless,
and the window overlaps the last one by a few minutes for history entries written late.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.zuora.adapter import ZuoraAdapter
from adapters.zuora.provider import rest_session, zuora_from_settings
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError
from gateway.core.log import get_logger
from gateway.webhooks.inbox import keep
from settings import Settings, get_settings

_log = get_logger("gateway.webhooks")
WATERMARK = "zuora.callout_history"
FIRST_LOOK_BACK = timedelta(days=1)  # Zuora's own default span, the first time
OVERLAP = timedelta(minutes=5)


async def pulled_until() -> datetime | None:
    rows = await fetch("SELECT pulled_until FROM provider_watermarks WHERE name = $1", WATERMARK)
    return rows[0]["pulled_until"] if rows else None


async def _advance(until: datetime) -> None:
    await fetch(
        """INSERT INTO provider_watermarks (name, pulled_until) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE
              SET pulled_until = GREATEST(provider_watermarks.pulled_until, EXCLUDED.pulled_until),
                  updated_at = now()""",
        WATERMARK,
        until,
    )


@asynccontextmanager
async def history_adapter(settings: Settings) -> AsyncIterator[ZuoraAdapter | None]:
    adapter = zuora_from_settings(settings)
    if adapter is not None and adapter.transport_name != "rest":
        adapter.callout_rest = rest_session(settings)  # a SOAP adapter reads it over REST
    try:
        # Without REST credentials a SOAP-only tenant has no history to read: nothing to pull.
        readable = adapter is not None and (
            adapter.transport_name == "rest" or adapter.callout_rest
        )
        yield adapter if readable else None
    finally:
        if adapter is not None:
            await adapter.close()
            if adapter.callout_rest is not None:
                await adapter.callout_rest.close()


async def pull_missed_callouts(adapter: Any = None, *, now: datetime | None = None) -> int:
    """Keep every failed notification since the watermark; the number newly kept. `adapter`
    (anything with `callout_history`) defaults to the configured Zuora adapter."""
    if adapter is None:
        async with history_adapter(get_settings()) as configured:
            return 0 if configured is None else await pull_missed_callouts(configured, now=now)
    until = now or datetime.now(UTC)
    since = await pulled_until()
    since = since - OVERLAP if since is not None else until - FIRST_LOOK_BACK
    try:
        events = await adapter.callout_history(since, until=until, failed_only=True)
    except BillingError as error:
        _log.warning("zuora callout history not read", code=str(error.code), detail=error.detail)
        return 0
    kept = 0
    for event in events:
        kept += await keep(event)
    await _advance(until)
    if kept:
        _log.info("missed zuora callouts pulled from the history", kept=kept)
    return kept
