"""The ticket a change request is filed under, whichever way the client gave it: as
`{"system", "id", "url"}` (what clients have always sent) or as one text in any spelling
("zendesk #1001"). Both name one ticket, stored as "zendesk:1001"."""

from __future__ import annotations

from gateway.change_requests.schemas import Filing, TicketRef
from gateway.core.errors import BillingError, ErrorCode
from gateway.tickets import KNOWN_SYSTEMS, canonical_ticket, ticket_parts


def filed_ticket(filing: Filing) -> tuple[str, str | None]:
    """(the canonical ticket, its URL). A system named twice that disagrees ("freshdesk #5"
    filed with system zendesk), or two different URLs, are refused."""
    given = filing.ticket
    if isinstance(given, TicketRef):
        ticket, url = canonical_ticket(given.id, given.system), given.url
    else:
        ticket, url = canonical_ticket(given), None
    system = ticket_parts(ticket)[0]
    if system not in KNOWN_SYSTEMS:
        raise BillingError(
            ErrorCode.TICKET_INVALID,
            f"The ticket system must be one of {', '.join(KNOWN_SYSTEMS)} (a ticket of another "
            "tool is filed as other, for example other:4711).",
        )
    if url and filing.ticket_url and url != filing.ticket_url:
        raise BillingError(
            ErrorCode.TICKET_INVALID,
            "The ticket's url and ticket_url differ: give the ticket's link once.",
        )
    return ticket, url or filing.ticket_url


def ticket_as_written(filing: Filing) -> str:
    """The ticket as the client gave it, for the record of a refused filing."""
    given = filing.ticket
    return f"{given.system}:{given.id}" if isinstance(given, TicketRef) else given
