"""What the API and the work screen show of Apply: every run with its steps, provider ids
masked (`pm_…1234`), and the request as GET shows it."""

from __future__ import annotations

import uuid
from typing import Any

from gateway.change_requests import fulfilment_queries as run_queries
from gateway.change_requests import queries
from gateway.change_requests.mapping import read_with_runs
from gateway.change_requests.schemas import ChangeRequestRead
from gateway.core.db.connection import fetch
from gateway.core.db.rows import loaded
from gateway.core.errors import BillingError, ErrorCode
from gateway.fulfilment.steps import mask_id
from gateway.fulfilment_schemas import FulfilmentRead, RunRead, StepRead

_JSON_COLUMNS = frozenset({"requester", "details", "checks", "applied_by"})
# Inputs that are references of the gateway's own, not provider objects.
_NOT_PROVIDER_IDS = frozenset({"mandate_id", "preview_id"})
# The columns shown as they are.
_RUN_COLUMNS = set(RunRead.__struct_fields__) - {"started_by", "steps"}
_STEP_COLUMNS = set(StepRead.__struct_fields__) - {"provider_ids", "before", "after"}


async def fulfilment_view(request_id: uuid.UUID) -> FulfilmentRead:
    return FulfilmentRead(
        runs=[
            RunRead(
                **{name: run[name] for name in _RUN_COLUMNS},
                started_by=loaded(run["started_by"]),
                steps=[
                    step_read(step) for step in await fetch(run_queries.STEPS_OF_RUN, run["id"])
                ],
            )
            for run in await fetch(run_queries.RUNS_OF_REQUEST, request_id, None)
        ]
    )


async def request_read(request_id: uuid.UUID) -> ChangeRequestRead:
    """The request as GET shows it; `fulfilment` stays null until a run exists."""
    rows = await fetch(queries.ROW, request_id)
    if not rows:
        raise BillingError(
            ErrorCode.CHANGE_REQUEST_NOT_FOUND, f"No change request has the id {request_id}."
        )
    row = {key: loaded(value) if key in _JSON_COLUMNS else value for key, value in rows[0].items()}
    return await read_with_runs(row, await fulfilment_view(request_id))


def step_read(step: dict[str, Any]) -> StepRead:
    result = loaded(step["result"]) or {}
    inputs = loaded(step["inputs"]) or {}
    named = {
        key.removesuffix("_id"): mask_id(str(value))
        for key, value in {**inputs, **result}.items()
        if key.endswith("_id") and value and key not in _NOT_PROVIDER_IDS
    }
    return StepRead(
        **{name: step[name] for name in _STEP_COLUMNS},
        provider_ids={key: value for key, value in named.items() if value},
        before=loaded(step["before"]),
        after=loaded(step["after"]),
    )
