"""One ticket format, `system:id` ("zendesk:1001"), stored and matched everywhere.

People write a ticket many ways: "zendesk #1001", "Zendesk:1001", "ZENDESK 1001",
"zendesk#1001", "#1001" (the system known from elsewhere), with full-width or Arabic-Indic
digits, zero-width characters pasted along. `canonical_ticket` turns every spelling into the
one stored form; `display_ticket` gives the form screens show ("zendesk #1001").

The text is folded as `gateway.core.sensitive` folds it (NFKC, a digit of any script as its ASCII
digit, invisible characters dropped, look-alike letters as Latin ones), so that what a reader
takes for the same ticket is the same ticket. The system is lower-cased; the id keeps its case
(some help desks' ids are case-sensitive), trimmed, inner spaces collapsed to one.

Refused (BillingError `ticket_invalid`): no id, a control character, a value too long, a
system of characters other than a-z, 0-9, "_", "." and "-" (starting with a letter), an id
with no system, and a system given twice that disagrees ("zendesk #1" filed as freshdesk).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import normalised

# The systems the API accepts on a change request; other places (corrections, blocklist
# sources, imports) take any well-formed system name.
KNOWN_SYSTEMS = ("zendesk", "freshdesk", "hubspot", "intercom", "other")
MAX_SYSTEM_LENGTH = 40
MAX_ID_LENGTH = 100
MAX_TICKET_LENGTH = MAX_SYSTEM_LENGTH + 1 + MAX_ID_LENGTH
_MAX_TYPED_LENGTH = 300  # before folding and trimming: anything longer is not a ticket

# C0 and C1 controls and DEL, refused as they are typed (folding would drop them silently).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SYSTEM = re.compile(rf"^[a-z][a-z0-9_.\-]{{0,{MAX_SYSTEM_LENGTH - 1}}}$")
_SPACES = re.compile(r"\s+")
_LEADING_SEPARATORS = re.compile(r"^[\s#:]+")
# A stored ticket's id alone, in SQL (change_requests has an index on exactly this expression).
TICKET_ID_SQL = "substr(ticket, strpos(ticket, ':') + 1)"
_NO_SYSTEM = "The ticket needs its system and id, such as zendesk:1001 or zendesk #1001."


class TicketError(BillingError):
    """A ticket that is not one: `ticket_invalid`, with a sentence."""

    def __init__(self, sentence: str) -> None:
        super().__init__(ErrorCode.TICKET_INVALID, sentence)


def _invalid(sentence: str) -> BillingError:
    return TicketError(sentence)


def _folded(text: str, what: str) -> str:
    if not isinstance(text, str):
        raise _invalid(f"The {what} must be text, such as zendesk:1001.")
    if len(text) > _MAX_TYPED_LENGTH:
        raise _invalid(f"The {what} is too long: write it as system:id, such as zendesk:1001.")
    stripped = text.strip()
    if _CONTROL.search(stripped):
        raise _invalid(f"The {what} holds a control character (such as NUL or a line break).")
    return _SPACES.sub(" ", normalised(stripped)).strip()


def _system(raw: str) -> str:
    system = raw.lower()
    if not _SYSTEM.match(system):
        raise _invalid(
            "The ticket system must be a name of letters, digits, '_', '.' or '-' (at most "
            f"{MAX_SYSTEM_LENGTH}, starting with a letter), such as zendesk."
        )
    return system


def _ticket_id(raw: str) -> str:
    # "zendesk::1001", "zendesk#:1001", "zendesk: # 1001": a doubled or mixed separator is a
    # slip of the keyboard, not an id that starts with one (it would file the ticket twice).
    ticket_id = _LEADING_SEPARATORS.sub("", raw).strip()
    if not ticket_id:
        raise _invalid("The ticket has no id: write it as system:id, such as zendesk:1001.")
    if len(ticket_id) > MAX_ID_LENGTH:
        raise _invalid(f"The ticket id is too long (at most {MAX_ID_LENGTH} characters).")
    return ticket_id


def _split(folded: str) -> tuple[str, str, str] | None:
    """(system as written, separator, id) of "system:id", "system #id", "system#id",
    "system id", "system: #id"; None when the text names no system."""
    # The first of them: "zendesk#:1001" is zendesk's, as "zendesk: #1001" is.
    found = [
        (folded.index(separator), separator) for separator in (":", "#") if separator in folded
    ]
    if found:
        separator = min(found)[1]
        system, _, ticket_id = folded.partition(separator)
        return system.strip(), separator, ticket_id
    system, space, ticket_id = folded.partition(" ")
    return (system, " ", ticket_id) if space else None


def canonical_ticket(text: str, system: str | None = None) -> str:
    """`text` in any spelling as "system:id"; `system` is the one the caller already knows
    (a form's system field): then `text` may be the id alone ("#1001", "1001")."""
    folded = _folded(text, "ticket")
    given = _system(_folded(system, "ticket system")) if system is not None else None
    parts = _split(folded)
    if given is not None:
        named = parts[0].lower() if parts else None
        if parts and named == given:
            return f"{given}:{_ticket_id(parts[2])}"
        one_id = parts is not None and (parts[1] != " " or " " not in parts[2].strip())
        if parts and one_id and named in KNOWN_SYSTEMS:
            raise _invalid(
                f"The ticket names the system {named} but was filed as {given}: give one "
                "system, or leave the system out of the ticket."
            )
        return f"{given}:{_ticket_id(folded)}"
    if parts is None or not parts[0]:
        raise _invalid(_NO_SYSTEM)
    named, separator, raw_id = parts
    ticket_id = _ticket_id(raw_id)
    if separator != ":" and " " in ticket_id:
        raise _invalid(_NO_SYSTEM)
    return f"{_system(named)}:{ticket_id}"


def ticket_parts(ticket: str) -> tuple[str, str]:
    """A canonical ticket's system and id: ("zendesk", "1001")."""
    system, _, ticket_id = ticket.partition(":")
    return system, ticket_id


def display_ticket(ticket: str | None) -> str:
    """The form screens show: "zendesk #1001" ("" for no ticket). A value that is not in the
    canonical form (free text kept from before it) is shown as it is."""
    if not ticket:
        return ""
    system, colon, ticket_id = ticket.partition(":")
    if not colon or not _SYSTEM.match(system) or not ticket_id:
        return ticket
    return f"{system} #{ticket_id}"


def canonical_ticket_or_none(text: str | None, system: str | None = None) -> str | None:
    """For optional fields: None and blank text stay None."""
    if text is None or not text.strip():
        return None
    return canonical_ticket(text, system)


@dataclass(frozen=True)
class TicketLookup:
    """What a person typed to find a ticket: the whole ticket when it names its system
    ("zendesk #1001"), else only its id ("1001", "#1001"), which matches any system."""

    ticket: str | None
    ticket_id: str


def ticket_lookup(text: str) -> TicketLookup:
    try:
        ticket = canonical_ticket(text)
    except BillingError:
        return TicketLookup(None, _ticket_id(_folded(text, "ticket")))
    return TicketLookup(ticket, ticket_parts(ticket)[1])
