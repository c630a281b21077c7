"""Reading endpoints and deliveries as plain dicts (masked: never the secret), and the audit
entries of their changes."""

from __future__ import annotations

import enum
import uuid
from typing import Any

from audit import Actor, AuditEntry, append
from audit.actions import Action
from gateway.core.cursor import encode_cursor
from gateway.core.db.connection import fetch
from gateway.core.db.rows import loaded
from gateway.core.errors import BillingError, ErrorCode
from gateway.i18n import Message
from gateway.notifications import queries


class Everyone(enum.Enum):
    """`client=ALL`: every endpoint, whichever client it serves (staff, all-clients keys)."""

    ALL = "all"


ALL = Everyone.ALL
ClientView = str | None | Everyone  # a client's, the all-clients endpoints', or all


def endpoint_not_found(endpoint_id: uuid.UUID) -> BillingError:
    return BillingError(
        ErrorCode.NOTIFICATION_ENDPOINT_NOT_FOUND,
        Message("No notification endpoint has the id {id}.", id=str(endpoint_id)),
    )


def delivery_not_found(delivery_id: uuid.UUID) -> BillingError:
    return BillingError(
        ErrorCode.NOTIFICATION_DELIVERY_NOT_FOUND,
        Message("No notification delivery has the id {id}.", id=str(delivery_id)),
    )


def endpoint_of(row: dict[str, Any]) -> dict[str, Any]:
    endpoint = {key: row[key] for key in queries.ENDPOINT_COLUMNS.split(", ") if key in row}
    endpoint["events"] = list(row["events"])
    endpoint["created_by"] = loaded(row["created_by"])
    endpoint["cursor"] = encode_cursor(row["created_at"], row["id"])
    return endpoint


def visible(row_client: str | None, client: ClientView) -> bool:
    return client is ALL or row_client == client


async def endpoint_row(
    endpoint_id: uuid.UUID, client: ClientView = ALL, *, lock: bool = False
) -> dict[str, Any]:
    rows = await fetch(queries.ENDPOINT + (" FOR UPDATE" if lock else ""), endpoint_id)
    if not rows or not visible(rows[0]["client"], client):
        raise endpoint_not_found(endpoint_id)
    return rows[0]


def delivery_of(row: dict[str, Any]) -> dict[str, Any]:
    delivery = {key: value for key, value in row.items() if key not in ("position",)}
    delivery.pop("endpoint_client", None)
    delivery["cursor"] = encode_cursor(row["created_at"], row["id"])
    return delivery


async def delivery_row(delivery_id: uuid.UUID, client: ClientView = ALL) -> dict[str, Any]:
    rows = await fetch(f"{queries.DELIVERY_SELECT} WHERE d.id = $1", delivery_id)
    if not rows or not visible(rows[0]["endpoint_client"], client):
        raise delivery_not_found(delivery_id)
    return rows[0]


async def audit(
    actor: Actor,
    endpoint_id: uuid.UUID,
    action: Action,
    after: dict[str, Any],
    *,
    before: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    await append(
        AuditEntry(
            action=action,
            actor=actor,
            about={},
            target_id=str(endpoint_id),
            reason=reason,
            before=before or {},
            after=after,
        )
    )
