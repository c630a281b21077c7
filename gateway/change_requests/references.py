"""How people name a change request (its id, or its ticket as the lists show it) and which of
its customer references stands for the customer: one place for each choice, so that the API,
the back office, the audit trail and fraud-stop agree."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.tickets import TICKET_ID_SQL, ticket_lookup

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
    ticket: str | None  # "zendesk:1001" when the reference names the ticket's system
    ticket_id: str  # the ticket's id alone ("1001"): matches that id in any system


def parse_request_reference(reference: str) -> RequestReference:
    """A request id, or a ticket in any spelling: "zendesk #1001", "Zendesk:1001",
    "ZENDESK 1001", full-width digits..., or just "1001" / "#1001" (any system)."""
    reference = reference.strip()
    try:
        request_id: uuid.UUID | None = uuid.UUID(reference)
    except ValueError:
        request_id = None
    else:
        return RequestReference(request_id, None, "")
    wanted = ticket_lookup(reference)
    return RequestReference(None, wanted.ticket, wanted.ticket_id)


# Rows of change_requests named by a reference: $1 the id, $2 the ticket, $3 the id alone.
MATCHES_REFERENCE = (
    f"(id = $1 OR ($1 IS NULL AND ($2::text IS NULL OR ticket = $2)"
    f" AND ($2::text IS NOT NULL OR {TICKET_ID_SQL} = $3)))"
)
