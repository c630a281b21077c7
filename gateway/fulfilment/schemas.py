"""What Apply reads (its request body) and the tier table returns: explicit structs, never ORM
rows. What Apply found and did: gateway/fulfilment_schemas.py."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar

import msgspec
from msgspec import Meta

from gateway.edge.bodies import Strict, text


class ApplyRequest(Strict, kw_only=True):
    """`POST /v1/change-requests/{id}/apply`: the preview the caller was shown (plan changes),
    the warnings it acknowledges by code, and why an identity mismatch is accepted."""

    openapi_example: ClassVar[dict[str, Any]] = {
        "preview_id": "5f0c3a9e21b7",
        "acknowledge": ["collections_not_checked"],
    }

    preview_id: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")] | None = (
        None
    )
    acknowledge: Annotated[
        list[Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]],
        Meta(max_length=20),
    ] = msgspec.field(default_factory=list)
    identity_mismatch_reason: Annotated[str, text(500)] | None = None


class PlanTierRead(msgspec.Struct, kw_only=True):
    name: str
    min_seats: int
    max_seats: int  # an upsell sets the seat charge's quantity to this
    monthly_price_minor: int
    currency: str


class PlanList(msgspec.Struct, kw_only=True):
    tiers: list[PlanTierRead]
    # Contracts signed before this date need a new signed contract before an upsell.
    contract_terms_changed_on: date
