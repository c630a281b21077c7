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
from gateway.core.db.connection import fetch, fetch_value
from gateway.core.errors import BillingError
from gateway.core.log import get_logger
from gateway.webhooks import queries
from gateway.webhooks.inbox import keep
from settings import Settings, get_settings

_log = get_logger("gateway.webhooks")
WATERMARK = "zuora.callout_history"
FIRST_LOOK_BACK = timedelta(days=1)  # Zuora's own default span, the first time
OVERLAP = timedelta(minutes=5)


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
    since = await fetch_value(queries.PULLED_UNTIL, WATERMARK)
    since = since - OVERLAP if since is not None else until - FIRST_LOOK_BACK
    try:
        events = await adapter.callout_history(since, until=until, failed_only=True)
    except BillingError as error:
        _log.warning("zuora callout history not read", code=str(error.code), detail=error.detail)
        return 0
    kept = 0
    for event in events:
        kept += await keep(event)
    await fetch(queries.ADVANCE, WATERMARK, until)
    if kept:
        _log.info("missed zuora callouts pulled from the history", kept=kept)
    return kept
