"""Reading endpoints and deliveries as plain dicts (masked: never the secret), and the audit
entries of their changes."""

from __future__ import annotations

import enum
import uuid
from typing import Any

import msgspec

from audit import Actor, AuditEntry, append
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.i18n import Message
from gateway.notifications.outbox import BODY_FOR_ENDPOINT
from gateway.pagination import decode_cursor, encode_cursor


class Everyone(enum.Enum):
    """`client=ALL`: every endpoint, whichever client it serves (staff, all-clients keys)."""

    ALL = "all"


ALL = Everyone.ALL
ClientView = str | None | Everyone  # a client's, the all-clients endpoints', or all
MAX_LIMIT = 200

ENDPOINT_COLUMNS = (
    "id, url, description, events, client, language, enabled, disabled_at, disabled_reason,"
    " failing_since, last_success_at, created_by, created_at, updated_at"
)
DELIVERY_SELECT = (
    "SELECT d.id, d.event_id, e.type AS event_type, e.subject_type, e.subject_id, e.sequence,"
    " e.position, d.endpoint_id, p.url AS endpoint_url, p.client AS endpoint_client, d.status,"
    " d.attempts, d.next_attempt_at, d.last_attempt_at, d.delivered_at,"
    " d.last_response_status, d.created_at"
    " FROM notification_deliveries d JOIN notification_events e ON e.id = d.event_id"
    " JOIN notification_endpoints p ON p.id = d.endpoint_id"
)


def loaded(value: Any) -> Any:
    """A JSONB value as asyncpg returns it (text), decoded."""
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


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
    endpoint = {key: row[key] for key in ENDPOINT_COLUMNS.split(", ") if key in row}
    endpoint["events"] = list(row["events"])
    endpoint["created_by"] = loaded(row["created_by"])
    endpoint["cursor"] = encode_cursor(row["created_at"], row["id"])
    return endpoint


def visible(row_client: str | None, client: ClientView) -> bool:
    return client is ALL or row_client == client


async def endpoint_row(endpoint_id: uuid.UUID, client: ClientView = ALL) -> dict[str, Any]:
    rows = await fetch(
        f"SELECT {ENDPOINT_COLUMNS} FROM notification_endpoints WHERE id = $1",  # noqa: S608
        endpoint_id,
    )
    if not rows or not visible(rows[0]["client"], client):
        raise endpoint_not_found(endpoint_id)
    return rows[0]


async def list_endpoint_rows(
    client: ClientView, *, limit: int = 50, before: str | None = None
) -> list[dict[str, Any]]:
    """Newest first, by keyset on (created_at, id); `before`: an item's `cursor`."""
    clauses = _Where()
    if client is not ALL:
        clauses.add("client IS NOT DISTINCT FROM ?", client)
    if before is not None:
        created_at, last_id = decode_cursor(before, uuid.UUID)
        clauses.add("(created_at, id) < (?, ?)", created_at, last_id)
    values = [*clauses.values, max(1, min(limit, MAX_LIMIT + 1))]
    return await fetch(
        f"SELECT {ENDPOINT_COLUMNS} FROM notification_endpoints{clauses.sql}"  # noqa: S608
        f" ORDER BY created_at DESC, id DESC LIMIT ${len(values)}",
        *values,
    )


class _Where:
    """WHERE clauses with `?` placeholders numbered as they are added."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.values: list[Any] = []

    def add(self, clause: str, *values: Any) -> None:
        for value in values:
            self.values.append(value)
            clause = clause.replace("?", f"${len(self.values)}", 1)
        self.clauses.append(clause)

    @property
    def sql(self) -> str:
        return f" WHERE {' AND '.join(self.clauses)}" if self.clauses else ""


def delivery_of(row: dict[str, Any]) -> dict[str, Any]:
    delivery = {key: value for key, value in row.items() if key not in ("position",)}
    delivery.pop("endpoint_client", None)
    delivery["cursor"] = encode_cursor(row["created_at"], row["id"])
    return delivery


async def list_delivery_rows(
    *,
    endpoint_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    status: str | None = None,
    client: ClientView = ALL,
    limit: int = 50,
    before: str | None = None,
) -> list[dict[str, Any]]:
    where = _Where()
    if endpoint_id is not None:
        where.add("d.endpoint_id = ?", endpoint_id)
    if event_id is not None:
        where.add("d.event_id = ?", event_id)
    if status is not None:
        where.add("d.status = ?", status)
    if client is not ALL:
        where.add("p.client IS NOT DISTINCT FROM ?", client)
    if before is not None:
        created_at, last_id = decode_cursor(before, uuid.UUID)
        where.add("(d.created_at, d.id) < (?, ?)", created_at, last_id)
    values = [*where.values, max(1, min(limit, MAX_LIMIT + 1))]
    return await fetch(
        f"{DELIVERY_SELECT}{where.sql} ORDER BY d.created_at DESC, d.id DESC LIMIT ${len(values)}",
        *values,
    )


async def delivery_row(delivery_id: uuid.UUID, client: ClientView = ALL) -> dict[str, Any]:
    rows = await fetch(f"{DELIVERY_SELECT} WHERE d.id = $1", delivery_id)
    if not rows or not visible(rows[0]["endpoint_client"], client):
        raise delivery_not_found(delivery_id)
    return rows[0]


async def attempts_of(delivery_id: uuid.UUID) -> list[dict[str, Any]]:
    return await fetch(
        "SELECT id, attempted_at, duration_ms, response_status, error, trigger"
        " FROM notification_attempts WHERE delivery_id = $1 ORDER BY id",
        delivery_id,
    )


async def payload_of(event_id: uuid.UUID, endpoint_id: uuid.UUID) -> Any:
    """The body this endpoint is sent for the event (its note in the endpoint's language)."""
    rows = await fetch(
        f"SELECT {BODY_FOR_ENDPOINT} AS payload"  # noqa: S608 (a constant)
        " FROM notification_events e, notification_endpoints p WHERE e.id = $1 AND p.id = $2",
        event_id,
        endpoint_id,
    )
    return loaded(rows[0]["payload"]) if rows else None


async def audit(
    actor: Actor,
    endpoint_id: uuid.UUID,
    action: str,
    after: dict[str, Any],
    *,
    before: dict[str, Any] | None = None,
    reason: str | None = None,
    target_type: str = "notification_endpoint",
) -> None:
    await append(
        AuditEntry(
            action=action,
            actor=actor,
            target_type=target_type,
            target_id=str(endpoint_id),
            reason=reason,
            before=before or {},
            after=after,
        )
    )
