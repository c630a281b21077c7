"""Zuora's callout history as the emulator serves it: `GET /v1/notification-history/callout`
with failedOnly, startTime and endTime (yyyy-MM-ddTHH:mm:ss, UTC here), page and pageSize (at
most 40), `calloutHistories` (one entry per attempt, the event's merge fields in
`eventContext`) and `nextPage` while more remain. Every attempt since the emulator started is
listed (the history is kept in memory, not in the state file)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.zuora.callouts import BY_CATEGORY
from adapters.zuora.emulator.callouts import Attempt, CalloutSender, sender_of
from adapters.zuora.emulator.rest_shapes import Answer, as_json
from adapters.zuora.emulator.state import Tenant

PAGE_LIMIT = 40
_ZUORA_TIME = "%Y-%m-%dT%H:%M:%S"


def history_item(attempt: Attempt) -> dict[str, Any]:
    """One entry of Zuora's callout history, with the event's merge fields."""
    note = attempt.notification
    event = BY_CATEGORY[note.category]
    return {
        "notificationId": note.id,
        "attemptedNum": attempt.number,
        "createTime": attempt.at.strftime(_ZUORA_TIME),
        "eventCategory": event.event_number,
        "eventContext": {
            "<Event.ID>": note.id,
            "<Event.Category>": note.category,
            "<Event.Timestamp>": note.created.isoformat(),
            "<Object.ID>": note.object_id,
            f"<{event.zuora_object}.ID>": note.object_id,
            "<Account.ID>": note.account_id,
            "<Account.Number>": note.account_number,
        },
        "notification": re.sub(r"(?<!^)([A-Z])", r" \1", note.category),
        "requestMethod": "POST",
        "requestUrl": attempt.url,
        "responseCode": attempt.response_code,
        "responseContent": attempt.response_content[:500],
    }


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def history_answer(sender: CalloutSender, params: dict[str, str]) -> Answer:
    end = _moment(params.get("endTime")) or datetime.now(UTC)
    start = _moment(params.get("startTime")) or end - timedelta(days=1)
    failed_only = params.get("failedOnly", "false").lower() == "true"
    chosen = [
        attempt
        for attempt in list(sender.attempts)
        if start <= attempt.at.replace(microsecond=0) <= end and (attempt.failed or not failed_only)
    ]
    size = max(1, min(int(params.get("pageSize", "20")), PAGE_LIMIT))
    page = max(1, int(params.get("page", "1")))
    answer: dict[str, Any] = {
        "calloutHistories": [history_item(a) for a in chosen[(page - 1) * size : page * size]],
        "success": True,
    }
    if page * size < len(chosen):
        query = {**params, "page": str(page + 1), "pageSize": str(size)}
        answer["nextPage"] = "/v1/notification-history/callout?" + "&".join(
            f"{name}={value}" for name, value in query.items()
        )
    return as_json(answer)


def callout_routes(tenant: Tenant) -> list[tuple[str, re.Pattern[str], Callable[..., Answer]]]:
    """The REST route of Zuora's callout history (empty while nothing is called out)."""

    def history(*, params: dict[str, str], **_: Any) -> Answer:
        return history_answer(sender_of(tenant) or CalloutSender(tenant), params)

    return [("GET", re.compile(r"/v1/notification-history/callout"), history)]
