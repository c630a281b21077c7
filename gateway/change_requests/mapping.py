"""Rows of `change_requests` to response structs and back; cursors for keyset pagination."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any

import msgspec

from gateway.change_requests.schemas import (
    ChangeRequestRead,
    CustomerRefs,
    IbanChangeSummary,
    PlanChangeSummary,
    Requester,
    TicketRef,
)
from gateway.errors import BillingError, ErrorCode

Summary = IbanChangeSummary | PlanChangeSummary

CUSTOMER_COLUMNS = (
    "zuora_account_id",
    "stripe_customer_id",
    "stripe_connect_account_id",
    "backoffice_id",
    "company_name",
)


def to_read(row: dict[str, Any]) -> ChangeRequestRead:
    return ChangeRequestRead(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        ticket=TicketRef(system=row["ticket_system"], id=row["ticket_id"], url=row["ticket_url"]),
        customer=CustomerRefs(**{column: row[column] for column in CUSTOMER_COLUMNS}),
        requester=msgspec.convert(row["requester"], Requester),
        contact_reasons=list(row["contact_reasons"]),
        payload=msgspec.convert(row["details"], Summary),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        cancelled_at=row["cancelled_at"],
        cancellation_reason=row["cancellation_reason"],
    )


def encode_cursor(created_at: datetime, request_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(request_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, request_id = json.loads(raw)
        return datetime.fromisoformat(created_at), uuid.UUID(request_id)
    except (ValueError, TypeError):
        raise BillingError(
            ErrorCode.INVALID_CURSOR,
            "The cursor is not one this API gave out; start again without it.",
        ) from None
