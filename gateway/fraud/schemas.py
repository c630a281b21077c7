"""Request and response bodies of /v1/blocklist and /v1/fraud: explicit structs, never rows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from msgspec import Meta, Struct

from gateway.edge.bodies import Strict, text

EntryKind = Literal["card_fingerprint", "card_bin", "ip", "ip_range", "email", "iban", "customer"]
Reason = Annotated[str, text(500)]
SourceTicket = Annotated[str, text(130)]
Value = Annotated[str, text(200)]
BIGINT_MAX = 2**63 - 1  # entry ids are PostgreSQL bigints


class BlocklistEntryCreate(Strict, kw_only=True):
    """One thing to block. A card is blocked by the provider's fingerprint (or its BIN), never
    by its number; an IBAN is kept only as a keyed hash and shown as country + last 4."""

    openapi_example: ClassVar[dict[str, Any]] = {
        "kind": "card_fingerprint",
        "value": "Xt5EWLLDS7FJjR1c",
        "reason": "Chargeback fraud: three disputed payments from this card in a week.",
        "source_ticket": "zendesk:1003",
        "expires_at": "2027-01-31T00:00:00Z",
    }

    kind: EntryKind
    value: Value
    reason: Reason
    source_ticket: SourceTicket | None = None
    # With its offset: a time without one would mean a different moment to each reader.
    expires_at: Annotated[datetime, Meta(tz=True)] | None = None


class BlocklistEntryRemove(Strict, kw_only=True):
    openapi_example: ClassVar[dict[str, Any]] = {
        "reason": "The bank confirmed the disputes were the customer's own mistake."
    }
    reason: Reason


class BlocklistEntryRead(Struct, kw_only=True):
    id: int
    kind: EntryKind
    display: str  # the value; an IBAN masked to country + last 4
    reason: str
    source_ticket: str | None  # "zendesk:1001": the one stored form
    author: str
    created_at: datetime
    expires_at: datetime | None
    active: bool  # neither removed nor expired
    removed_at: datetime | None
    removed_by: str | None
    removal_reason: str | None
    source_ticket_display: str | None = None  # "zendesk #1001", as screens show it


class BlocklistPage(Struct, kw_only=True):
    items: list[BlocklistEntryRead]
    next_cursor: str | None


class BlocklistImportCreate(Strict, kw_only=True):
    """Either `entries` or `csv` (a header line naming kind,value,reason and optionally
    source_ticket,expires_at). Each row is blocked or refused on its own."""

    openapi_example: ClassVar[dict[str, Any]] = {
        "csv": "kind,value,reason,source_ticket\n"
        "email,mallory@fraud.example,Card testing from this address,zendesk:1004\n"
        "ip_range,203.0.113.0/24,Card testing from this network,zendesk:1004\n"
    }

    entries: Annotated[list[BlocklistEntryCreate], Meta(max_length=10_000)] | None = None
    csv: Annotated[str, Meta(max_length=1_000_000)] | None = None


class ImportRowResult(Struct, kw_only=True):
    row: int  # 1-based, as a spreadsheet numbers data rows
    outcome: Literal["blocked", "already_blocked", "refused"]
    entry_id: int | None = None
    code: str | None = None
    detail: str | None = None


class BlocklistImportRead(Struct, kw_only=True):
    id: UUID
    status: Literal["queued", "running", "done"]
    total: int
    blocked: int
    refused: int
    created_at: datetime
    finished_at: datetime | None
    results: list[ImportRowResult] | None


class ScreenRequest(Strict, kw_only=True):
    """What to screen; give any of them. Nothing given is refused."""

    openapi_example: ClassVar[dict[str, Any]] = {
        "ip": "203.0.113.42",
        "email": "lena.hoffmann@hoffmann-logistik.example",
        "card_bin": "424242",
    }

    ip: Annotated[str, text(64)] | None = None
    card_fingerprint: Value | None = None
    card_bin: Annotated[str, text(11)] | None = None
    email: Annotated[str, text(254)] | None = None
    iban: Annotated[str, text(64)] | None = None
    customer: Value | None = None


class ScreenMatch(Struct, kw_only=True):
    entry_id: int
    kind: EntryKind
    display: str
    reason: str
    source_ticket: str | None
    why: str  # one sentence: what matched what


class ScreenResult(Struct, kw_only=True):
    decision: Literal["allow", "block"]
    matches: list[ScreenMatch]
