"""What the API and the work screen show of Apply: every run with its steps, provider ids
masked (`pm_…1234`), and the request as GET shows it."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from gateway.change_requests.mapping import to_read
from gateway.change_requests.outcomes import outcomes_of
from gateway.change_requests.schemas import ChangeRequestRead
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.fulfilment.schemas import FulfilmentRead, RunRead, StepRead
from gateway.fulfilment.steps import mask_id

_JSON_COLUMNS = frozenset({"requester", "details", "checks", "applied_by"})
# Inputs that are references of the gateway's own, not provider objects.
_NOT_PROVIDER_IDS = frozenset({"mandate_id", "preview_id"})


def loaded(value: Any) -> Any:
    """A JSONB value as asyncpg returns it (text), decoded."""
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


async def fulfilment_view(request_id: uuid.UUID) -> FulfilmentRead:
    runs = await fetch(
        "SELECT id, number, status, plan_hash, preview_id, started_by, approved_by_id,"
        " created_at, updated_at, finished_at, deadline_at, error_code, error_message"
        " FROM fulfilment_runs WHERE change_request_id = $1 ORDER BY number",
        request_id,
    )
    steps = await fetch(
        "SELECT s.* FROM fulfilment_steps s JOIN fulfilment_runs r ON r.id = s.run_id"
        " WHERE r.change_request_id = $1 ORDER BY s.position",
        request_id,
    )
    by_run: dict[uuid.UUID, list[StepRead]] = {run["id"]: [] for run in runs}
    for step in steps:
        by_run[step["run_id"]].append(step_read(step))
    return FulfilmentRead(
        runs=[
            RunRead(
                id=run["id"],
                number=run["number"],
                status=run["status"],
                plan_hash=run["plan_hash"],
                preview_id=run["preview_id"],
                started_by=loaded(run["started_by"]),
                approved_by_id=run["approved_by_id"],
                created_at=run["created_at"],
                updated_at=run["updated_at"],
                finished_at=run["finished_at"],
                deadline_at=run["deadline_at"],
                error_code=run["error_code"],
                error_message=run["error_message"],
                steps=by_run[run["id"]],
            )
            for run in runs
        ]
    )


async def request_read(request_id: uuid.UUID) -> ChangeRequestRead:
    """The request as GET shows it; `fulfilment` stays null until a run exists."""
    rows = await fetch("SELECT * FROM change_requests WHERE id = $1", request_id)
    if not rows:
        raise BillingError(
            ErrorCode.CHANGE_REQUEST_NOT_FOUND, f"No change request has the id {request_id}."
        )
    row = {key: loaded(value) if key in _JSON_COLUMNS else value for key, value in rows[0].items()}
    runs = await fulfilment_view(request_id)
    return msgspec.structs.replace(
        to_read(row),
        fulfilment=runs if runs.runs else None,
        **await outcomes_of(request_id, runs.runs),
    )


def step_read(step: dict[str, Any]) -> StepRead:
    result = loaded(step["result"]) or {}
    inputs = loaded(step["inputs"]) or {}
    named = {
        key.removesuffix("_id"): mask_id(str(value))
        for key, value in {**inputs, **result}.items()
        if key.endswith("_id") and value and key not in _NOT_PROVIDER_IDS
    }
    return StepRead(
        id=step["id"],
        position=step["position"],
        target=step["target"],
        provider=step["provider"],
        operation=step["operation"],
        status=step["status"],
        attempts=step["attempts"],
        provider_ids={key: value for key, value in named.items() if value},
        provider_request_id=step["provider_request_id"],
        before=loaded(step["before"]),
        after=loaded(step["after"]),
        error_code=step["error_code"],
        error_message=step["error_message"],
        started_at=step["started_at"],
        finished_at=step["finished_at"],
        settled_by_id=step["settled_by_id"],
        settled_reason=step["settled_reason"],
    )
