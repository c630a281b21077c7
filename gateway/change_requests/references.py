"""How people name a change request (its id, or its ticket as the lists show it): one place, so
that the API, the back office and fraud-stop agree. Which of its customer references stands for
the customer: `gateway.core.customers`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from gateway.tickets import ticket_lookup


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
