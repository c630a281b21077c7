"""What a support tool tells the customer without another system: who has the request, how it
was resolved, what the review said and what happened at the providers (`GET
/v1/change-requests/{id}`). Derived from the request's row and its runs, never stored twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from msgspec import Struct

from gateway.change_requests import queries
from gateway.change_requests.states import Status
from gateway.core.db.connection import fetch
from gateway.staff import queries as staff_queries


class StaffName(Struct, kw_only=True):
    username: str
    display_name: str  # first and last name where the account has them, else the user name


class Resolution(Struct, kw_only=True):
    note: str | None
    reasons: list[str]  # contact reasons recorded when the work was done


class ReviewOutcome(Struct, kw_only=True):
    outcome: Literal["not_required", "pending", "approved", "rejected"]
    by: StaffName | None = None
    at: datetime | None = None
    comment: str | None = None  # a rejection's comment


class FulfilmentOutcome(Struct, kw_only=True):
    """The last run's end, as the providers answered it."""

    outcome: Literal["awaiting_approval", "plan_refused", "applying", "applied", "apply_failed"]
    finished_at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None


async def staff_names(ids: list[int | None]) -> dict[int, StaffName]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = await fetch(staff_queries.NAMES_BY_IDS, wanted)
    return {row["id"]: _name(row) for row in rows}


def _name(row: dict[str, Any]) -> StaffName:
    full = " ".join(part for part in (row["first_name"], row["last_name"]) if part).strip()
    return StaffName(username=row["username"], display_name=full or row["username"])


def resolution_of(row: dict[str, Any]) -> Resolution | None:
    note, reasons = row.get("resolution_note"), row.get("resolution_reasons") or []
    if not note and not reasons:
        return None
    return Resolution(note=note, reasons=list(reasons))


def review_of(row: dict[str, Any], names: dict[int, StaffName]) -> ReviewOutcome | None:
    status = Status(row["status"])
    reviewer = names.get(row["reviewed_by_id"]) if row.get("reviewed_by_id") else None
    if status is Status.APPROVED:
        return ReviewOutcome(outcome="approved", by=reviewer, at=row.get("reviewed_at"))
    if row.get("reviewed_at") and row.get("review_comment"):
        return ReviewOutcome(
            outcome="rejected",
            by=reviewer,
            at=row.get("reviewed_at"),
            comment=row.get("review_comment"),
        )
    if status is Status.APPLIED:
        return ReviewOutcome(outcome="pending" if row.get("review_required") else "not_required")
    return None


def fulfilment_of(last_run: Any | None) -> FulfilmentOutcome | None:
    """`last_run`: the request's last RunRead, when it has one."""
    if last_run is None:
        return None
    if last_run.status == "waiting_approval":
        return FulfilmentOutcome(outcome="awaiting_approval")
    if last_run.status == "refused":
        return FulfilmentOutcome(outcome="plan_refused", finished_at=last_run.finished_at)
    if last_run.status == "running":
        return FulfilmentOutcome(outcome="applying")
    if last_run.status == "succeeded":
        return FulfilmentOutcome(outcome="applied", finished_at=last_run.finished_at)
    return FulfilmentOutcome(
        outcome="apply_failed",
        finished_at=last_run.finished_at,
        error_code=last_run.error_code,
        error_message=last_run.error_message,
    )


async def outcomes_of(request_id: Any, runs: list[Any]) -> dict[str, Any]:
    """The read model's answer fields for one request (keyword arguments of its read):
    `runs` are its RunReads, oldest first."""
    rows = await fetch(queries.ROW, request_id)
    if not rows:
        return {}
    row = dict(rows[0])
    names = await staff_names([row["assignee_id"], row["reviewed_by_id"]])
    return {
        "assignee": names.get(row["assignee_id"]) if row["assignee_id"] else None,
        "resolution": resolution_of(row),
        "review": review_of(row, names),
        "outcome": fulfilment_of(runs[-1] if runs else None),
    }
