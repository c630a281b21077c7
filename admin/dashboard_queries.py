"""What the team lead's dashboard counts, in four statements, each served by an index:

- the queues: the same probe as /metrics (gateway.metrics_endpoint), so the dashboard and the
  alerts never disagree, and each specialist's open requests; index-only scans, as the partial
  indexes of open rows (change_requests_open, _in_work, _to_review) cover what they read;
- the breaches: open requests older than the limit (the partial index of open requests);
- the last 14 days, per day in the reader's time zone: expiries, applies, review outcomes,
  blocks and unblocks from the audit trail (by action and time: the index
  audit_records_action_time; the names with their old spellings, `audit_spellings`), and changes
  stopped by fraud-stop from the notification events (notification_events_type_time).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from audit import queries as audit_queries
from audit.actions import Action
from gateway.change_requests import queries
from gateway.core.db.connection import fetch, in_transaction
from gateway.metrics_endpoint import BACK_OFFICE_QUEUES
from gateway.notifications import queries as notification_queries

DAYS = 14
QUEUES = (
    "triage",
    "specialists",
    "review",
    "plan_approval",
    "apply_failed",
    "corrections_approval",
)
EXPIRED = Action.CHANGE_REQUEST_EXPIRE_SUCCEEDED.value
APPLIED = Action.CHANGE_REQUEST_APPLY_STARTED.value
APPROVED = Action.CHANGE_REQUEST_APPROVE_SUCCEEDED.value
SENT_BACK = Action.CHANGE_REQUEST_REJECT_SUCCEEDED.value
BLOCKED = Action.BLOCKLIST_CREATE_ENTRY_SUCCEEDED.value
UNBLOCKED = Action.BLOCKLIST_REMOVE_ENTRY_SUCCEEDED.value
STOPPED = "change_request.blocked_by_fraud_stop"  # a notification event, not an audit action
AUDITED = (EXPIRED, APPLIED, APPROVED, SENT_BACK, BLOCKED, UNBLOCKED)
_DAILY = f"{audit_queries.ACTIONS_PER_DAY}UNION ALL {notification_queries.EVENTS_PER_DAY}"


@dataclass(frozen=True)
class Queue:
    name: str  # one of QUEUES
    depth: int
    oldest_seconds: float


@dataclass(frozen=True)
class SpecialistQueue:
    staff_id: int
    username: str
    depth: int
    oldest_seconds: float


@dataclass(frozen=True)
class DayCount:
    action: str  # an audit action of AUDITED, or STOPPED
    day: date
    count: int
    staff_id: int | None = None  # who applied (APPLIED by a staff member)
    username: str | None = None


@dataclass(frozen=True)
class DashboardData:
    queues: list[Queue]
    specialists: list[SpecialistQueue]
    breaches: dict[str, int]  # status -> open requests older than the limit
    days: list[date]  # the 14 days, oldest first, in the reader's time zone
    daily: list[DayCount]


def _seconds(interval: Any) -> float:
    return float(interval.total_seconds()) if interval is not None else 0.0


def last_days(time_zone: str, today: date | None = None) -> list[date]:
    today = today or datetime.now(ZoneInfo(time_zone)).date()
    return [today - timedelta(days=back) for back in range(DAYS - 1, -1, -1)]


async def read_dashboard(time_zone: str, limit_hours: int) -> DashboardData:
    days = last_days(time_zone)
    since = datetime.combine(days[0], time(), ZoneInfo(time_zone))
    reads = (
        fetch(BACK_OFFICE_QUEUES),
        fetch(queries.SPECIALIST_QUEUES),
        fetch(queries.OPEN_PAST, limit_hours),
        fetch(_DAILY, list(AUDITED), since, time_zone, STOPPED),
    )
    if in_transaction():  # one connection: one statement at a time
        probed, per_specialist, past, per_day = [await read for read in reads]
    else:
        # Four statements on four pooled connections at once: the page waits for the slowest
        # (the queue probe), not for their sum. Each was its own snapshot before too.
        probed, per_specialist, past, per_day = await asyncio.gather(*reads)
    probe = {row["queue"]: row for row in probed}
    queues = [
        Queue(name, int(probe[name]["depth"]), _seconds(probe[name]["oldest"]))
        for name in QUEUES
        if name in probe
    ]
    specialists = [
        SpecialistQueue(row["staff_id"], row["username"], row["depth"], _seconds(row["oldest"]))
        for row in per_specialist
    ]
    breaches = {row["status"]: row["count"] for row in past}
    daily = [
        DayCount(row["action"], row["day"], row["count"], row["staff_id"], row["username"])
        for row in per_day
    ]
    return DashboardData(queues, specialists, breaches, days, daily)
