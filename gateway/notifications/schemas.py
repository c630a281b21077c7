"""What the notification API reads and returns: explicit structs, never rows; never a secret
except in `EndpointRegistered` and `SecretRotated`, the answers that show it once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from msgspec import Meta, Struct

from gateway.edge.bodies import PRINTABLE, Strict, text

Url = Annotated[
    str, Meta(min_length=8, max_length=2000, examples=["https://hooks.example.com/billing"])
]
EventPattern = Annotated[
    str, Meta(min_length=1, max_length=100, pattern=r"^[a-z_.*]+$", examples=["change_request.*"])
]
Events = Annotated[list[EventPattern], Meta(min_length=1, max_length=60)]
Description = Annotated[str, Meta(max_length=500, pattern=PRINTABLE)]
Client = Annotated[str, text(100)]
Reason = Annotated[str, text(500)]
DeliveryStatus = Literal["pending", "delivered", "failed"]
# The language of the `note` each body carries (gateway.i18n.LANGUAGES); the rest of the body
# (codes, statuses, helpdesk_status) is the same in every language.
Language = Literal["en", "fr", "ar"]


class EndpointCreate(Strict, kw_only=True):
    """`events`: exact types (change_request.applied) or patterns (change_request.*,
    correction.*, provider.*, *). `client`: only for a key that sees every client (default:
    the key's own client; such a key leaving it out means every client's events). `language`:
    the language of each body's `note`, the sentence ready for the ticket's internal note
    (en, fr, ar; default en)."""

    openapi_example: ClassVar[dict[str, Any]] = {
        "url": "https://hooks.example.com/billing-gateway",
        "events": ["change_request.*", "provider.payment_failed"],
        "description": "Zendesk: internal notes on the request's ticket",
        "language": "fr",
    }

    url: Url
    events: Events
    description: Description | None = None
    client: Client | None = None
    language: Language = "en"


class EndpointUpdate(Strict, kw_only=True):
    """What is given changes; what is left out stays."""

    openapi_example: ClassVar[dict[str, Any]] = {"events": ["change_request.*", "correction.*"]}

    url: Url | None = None
    events: Events | None = None
    description: Description | None = None
    language: Language | None = None


class EndpointDisable(Strict, kw_only=True):
    openapi_example: ClassVar[dict[str, Any]] = {
        "reason": "The help desk moves to a new receiver next week."
    }

    reason: Reason


class EndpointRead(Struct, kw_only=True):
    id: UUID
    url: str
    description: str
    events: list[str]
    client: str | None  # None: every client's events
    language: str  # of each body's note: en, fr or ar
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None  # a sentence: who disabled it and why
    failing_since: datetime | None
    last_success_at: datetime | None
    created_at: datetime
    updated_at: datetime


class EndpointRegistered(EndpointRead, kw_only=True):
    secret: str  # whsec_...: shown this once; verify webhook-signature with it


class SecretRotated(Struct, kw_only=True):
    id: UUID
    secret: str  # the new whsec_..., shown this once; the old one stops signing now


class EndpointPage(Struct, kw_only=True):
    items: list[EndpointRead]
    next_cursor: str | None


class AttemptRead(Struct, kw_only=True):
    id: int
    attempted_at: datetime
    duration_ms: int
    response_status: int | None
    error: str | None
    trigger: Literal["schedule", "resend"]


class DeliveryRead(Struct, kw_only=True):
    id: UUID
    event_id: UUID  # sent as webhook-id: the same on every try and resend
    event_type: str
    subject_type: str
    subject_id: str
    sequence: int
    endpoint_id: UUID
    endpoint_url: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    last_response_status: int | None
    created_at: datetime


class DeliveryDetail(DeliveryRead, kw_only=True):
    attempt_history: list[AttemptRead]  # oldest first
    payload: dict[str, Any]  # the body sent, as sent (masked data only)


class DeliveryPage(Struct, kw_only=True):
    items: list[DeliveryRead]
    next_cursor: str | None
