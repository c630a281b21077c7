"""Zuora's callout history, read to fill the gaps a failed callout leaves (REST only:
`GET /v1/notification-history/callout`, whichever transport the adapter writes with).

Zuora answers `calloutHistories` (one entry per attempt: attemptedNum, createTime,
eventCategory, eventContext with the merge fields, requestUrl, responseCode...) and a
`nextPage` while more remain; startTime and endTime are the tenant's local time without an
offset (the gateway sends UTC: keep the tenant's time zone UTC, or widen the overlap).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.events import ProviderEvent
from adapters.zuora.callouts import event_from_history
from adapters.zuora.rest_session import ZuoraRest
from gateway.core.errors import BillingError, ErrorCode

HISTORY_PATH = "/v1/notification-history/callout"
PAGE_SIZE = 40  # Zuora's largest
WINDOW = timedelta(days=1)  # one request's range: Zuora's default span
_ZUORA_TIME = "%Y-%m-%dT%H:%M:%S"


class CalloutHistoryReads:
    """Mixed into ZuoraAdapter. `callout_rest` is the REST session for a SOAP adapter (the
    REST transport's own session is used otherwise)."""

    callout_rest: ZuoraRest | None = None

    async def callout_history(
        self, since: datetime, *, until: datetime | None = None, failed_only: bool = True
    ) -> list[ProviderEvent]:
        """The notifications called out from `since` to `until` (default now), as neutral
        events, oldest first, each once however many attempts it had; entries the gateway
        cannot read (no id, no category) are left out."""
        rest = self.callout_rest or getattr(getattr(self, "transport", None), "_rest", None)
        if not isinstance(rest, ZuoraRest):
            raise BillingError(
                ErrorCode.PROVIDER_NOT_CONFIGURED,
                "Zuora's callout history is read over REST: set BG_ZUORA_REST_URL, "
                "BG_ZUORA_CLIENT_ID and BG_ZUORA_CLIENT_SECRET.",
            )
        end = until or datetime.now(UTC)
        events: dict[str, ProviderEvent] = {}
        start = since
        while start < end:
            stop = min(start + WINDOW, end)
            for item in await _entries(rest, start, stop, failed_only):
                try:
                    event = event_from_history(item)
                except (ValueError, KeyError, TypeError):
                    continue
                events.setdefault(event.event_id, event)
            start = stop
        return sorted(events.values(), key=lambda event: event.created)


async def _entries(
    rest: ZuoraRest, start: datetime, stop: datetime, failed_only: bool
) -> list[dict[str, Any]]:
    params: dict[str, Any] = {
        "startTime": start.astimezone(UTC).strftime(_ZUORA_TIME),
        "endTime": stop.astimezone(UTC).strftime(_ZUORA_TIME),
        "failedOnly": "true" if failed_only else "false",
        "pageSize": PAGE_SIZE,
    }
    entries: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = await rest.request(
            "GET", HISTORY_PATH, "reading the callout history", params={**params, "page": page}
        )
        entries += answer.get("calloutHistories") or []
        if not answer.get("nextPage"):
            return entries
        page += 1
