"""Rows of `change_requests` to response structs and back."""

from __future__ import annotations

from typing import Any

import msgspec

from gateway.change_requests.outcomes import outcomes_of
from gateway.change_requests.schemas import (
    ChangeRequestRead,
    CustomerRefs,
    IbanChangeSummary,
    PlanChangeSummary,
    Requester,
)
from gateway.core.customers import CUSTOMER_REFERENCES
from gateway.fulfilment_schemas import Checks, FulfilmentRead
from gateway.tickets import display_ticket

Summary = IbanChangeSummary | PlanChangeSummary

CUSTOMER_COLUMNS = (*CUSTOMER_REFERENCES, "company_name")


def _checks_of(stored: Any) -> Checks | None:
    """The pre-checks last stored; checks stored in an older shape read as not checked yet
    (the next refresh, at the latest right before Apply, replaces them)."""
    if not stored:
        return None
    try:
        return msgspec.convert(stored, Checks)
    except msgspec.ValidationError:
        return None


def to_read(row: dict[str, Any]) -> ChangeRequestRead:
    checks = _checks_of(row.get("checks"))
    return ChangeRequestRead(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        ticket=row["ticket"],
        ticket_display=display_ticket(row["ticket"]),
        ticket_url=row["ticket_url"],
        customer=CustomerRefs(**{column: row[column] for column in CUSTOMER_COLUMNS}),
        requester=msgspec.convert(row["requester"], Requester),
        contact_reasons=list(row["contact_reasons"]),
        payload=msgspec.convert(row["details"], Summary),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        cancelled_at=row["cancelled_at"],
        cancellation_reason=row["cancellation_reason"],
        checks=checks,
        preview=checks.preview if checks else None,
    )


async def read_with_runs(row: dict[str, Any], runs: FulfilmentRead) -> ChangeRequestRead:
    """The request as GET shows it: its row, what Apply did at the providers (null before the
    first run) and what that came to (who has it, review, outcome)."""
    return msgspec.structs.replace(
        to_read(row),
        fulfilment=runs if runs.runs else None,
        **await outcomes_of(row["id"], runs.runs),
    )
