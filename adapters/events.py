"""A provider's event in provider-neutral terms: what the gateway's webhook inbox keeps.

Each adapter turns its provider's notification (a Stripe event, a Zuora callout) into one of
these; the inbox and its jobs never parse a provider's own format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ProviderEvent:
    provider: str  # "stripe", "zuora"
    event_id: str  # unique per provider: a repeated delivery carries the same id
    type: str  # Stripe: its own type ("setup_intent.succeeded"); Zuora: "payment.succeeded"...
    object_type: str | None  # "payment", "refund", "payment_method", Stripe's object name
    object_id: str | None
    account_id: str | None  # the provider's customer / account the object belongs to
    created: datetime
    payload: dict[str, Any] = field(default_factory=dict)  # the body as received
