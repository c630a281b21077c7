"""How people name a change request (its id, or its ticket as the lists show it) and which of
its customer references stands for the customer: one place for each choice, so that the API,
the back office, the audit trail and fraud-stop agree."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

# In this order: the first one given is the audit subject (what `audit forget` erases).
CUSTOMER_REFERENCES = (
    "backoffice_id",
    "zuora_account_id",
    "stripe_customer_id",
    "stripe_connect_account_id",
)


def subject_of(references: Mapping[str, object]) -> str | None:
    """The customer reference an entry about this customer is filed under."""
    chosen = next((references[name] for name in CUSTOMER_REFERENCES if references.get(name)), None)
    return str(chosen) if chosen is not None else None


@dataclass(frozen=True)
class RequestReference:
    request_id: uuid.UUID | None  # when the reference is an id
    ticket_id: str
    ticket_system: str  # "" when only the ticket number was given


def parse_request_reference(reference: str) -> RequestReference:
    """A request id, or a ticket: "zendesk #1001" or just "1001"."""
    reference = reference.strip()
    try:
        request_id: uuid.UUID | None = uuid.UUID(reference)
    except ValueError:
        request_id = None
    system, _, ticket_id = reference.rpartition("#")
    return RequestReference(request_id, ticket_id.strip(), system.strip().lower())
