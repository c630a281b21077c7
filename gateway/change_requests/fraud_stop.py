"""FRAUD-STOP: block in one go the card fingerprint, IP and customer a lead names and what a
change request gives (its IBAN as the keyed hash it is kept as, the requester's email and IP,
the account holder's email, every customer reference). Every value is checked before the first
is blocked, so a typo blocks nothing; what is blocked already counts as done. Each block goes
through `BlocklistService`, which audits it."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from audit import Actor
from gateway.change_requests.fraud_targets import FraudTargets, read_fraud_targets
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import refuse_card_or_iban
from gateway.fraud.schemas import BlocklistEntryCreate, EntryKind
from gateway.fraud.screening import NOUN
from gateway.fraud.service import BlocklistService, refuse_sensitive_free_text
from gateway.fraud.wiring import blocklist_service
from gateway.i18n import Message
from gateway.tickets import canonical_ticket_or_none, display_ticket


@dataclass(frozen=True)
class StoppedValue:
    kind: EntryKind
    display: str  # as people see it: an IBAN masked to country + last 4
    entry_id: int


@dataclass(frozen=True)
class FraudStopResult:
    ticket: str | None  # the request's ticket, or the one given, as shown: "zendesk #1001"
    blocked: tuple[StoppedValue, ...]
    already_blocked: tuple[StoppedValue, ...]


@dataclass(frozen=True)
class _Target:
    kind: EntryKind
    value: str
    stored: tuple[str, str] | None = None  # (stored value, display) when already worked out


def _refuse_sensitive(**fields: str | None) -> None:
    """Fingerprints and customer references are stored as given: no card number, no IBAN.
    The refusals name the field and what this action offers instead, which the blocklist's
    own (`refuse_sensitive_value`: block by BIN, or as an entry of kind iban) cannot."""
    for name, text in fields.items():
        label = Message(NOUN[name])  # the field's name in words: "card fingerprint"
        refuse_card_or_iban(
            text,
            card=Message(
                "The {label} looks like a card number, which the gateway never accepts: "
                "give the provider's card fingerprint instead.",
                label=label,
            ),
            iban=Message(
                "The {label} holds an IBAN. Leave it out: FRAUD-STOP on the request blocks "
                "its IBAN, kept only as a keyed hash.",
                label=label,
            ),
        )


def _request_targets(request: FraudTargets) -> list[_Target]:
    emails = (request.requester_email, request.holder_email)
    targets = [_Target("email", email) for email in emails if email]
    if request.requester_ip:
        targets.append(_Target("ip", request.requester_ip))
    if request.iban_hash:
        stored = (request.iban_hash, request.iban_masked or "IBAN")
        targets.append(_Target("iban", "", stored))
    return targets + [_Target("customer", ref) for ref in request.customer_references]


class FraudStop:
    def __init__(self, blocklist: BlocklistService) -> None:
        self._blocklist = blocklist

    async def stop(
        self,
        actor: Actor,
        *,
        request: str | None,
        card_fingerprint: str | None,
        ip: str | None,
        customer: str | None,
        reason: str,
        ticket: str | None,
    ) -> FraudStopResult:
        """`request` is a change request's id or ticket; without one, `ticket` is where the
        values come from. Blank values count as not given."""
        _refuse_sensitive(card_fingerprint=card_fingerprint, customer=customer)
        given: list[tuple[EntryKind, str | None]] = [
            ("card_fingerprint", card_fingerprint),
            ("ip", ip),
            ("customer", customer),
        ]
        targets = [_Target(kind, value) for kind, value in given if value]
        if request:
            from_request = await read_fraud_targets(request)
            ticket = from_request.ticket
            targets += _request_targets(from_request)
        if not targets:
            raise BillingError(
                ErrorCode.VALIDATION_FAILED,
                Message("Give a request or a customer, and the card fingerprint and IP to stop."),
            )
        chosen = self._check(targets)
        refuse_sensitive_free_text(reason, ticket)
        ticket = canonical_ticket_or_none(ticket)  # stored as "zendesk:1001"
        blocked, already = [], []
        for (kind, value), display in chosen.items():
            entry = BlocklistEntryCreate(
                kind=kind,
                value=display,  # unused: `stored` is what is kept
                reason=reason,
                source_ticket=ticket,
            )
            try:
                created = await self._blocklist.block(entry, actor, stored=(value, display))
            except BillingError as error:
                if error.code is not ErrorCode.BLOCKLIST_ENTRY_EXISTS:
                    raise
                already.append(StoppedValue(kind, display, int(error.extra["existing_id"])))
            else:
                blocked.append(StoppedValue(kind, display, created.id))
        return FraudStopResult(display_ticket(ticket) or None, tuple(blocked), tuple(already))

    def _check(self, targets: list[_Target]) -> dict[tuple[EntryKind, str], str]:
        """Each value once, in its stored form -> what people see; an invalid one refuses all."""
        chosen: dict[tuple[EntryKind, str], str] = {}
        for target in targets:
            value, display = target.stored or self._blocklist.stored_form(target.kind, target.value)
            chosen.setdefault((target.kind, value), display)
        return chosen


@functools.cache
def fraud_stop() -> FraudStop:
    """The process's FRAUD-STOP, on the process's blocklist."""
    return FraudStop(blocklist_service())
