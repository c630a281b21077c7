"""Fraud-stop: blocking and unblocking (audited, history kept), listing, and screening against
this process's matcher. Changes reach every other process through the mirror's LISTEN."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
from asyncpg.exceptions import UniqueViolationError
from litestar.status_codes import HTTP_201_CREATED

from audit import Actor, AuditEntry, append
from audit.actions import Action
from audit.entry import SYSTEM
from gateway import bank_details
from gateway.bank_details import IBAN_HASH_PURPOSE
from gateway.core.crypto import Cipher
from gateway.core.cursor import decode_cursor, encode_cursor
from gateway.core.db.connection import fetch, transaction
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import refuse_card_or_iban
from gateway.fraud import queries
from gateway.fraud.descriptions import EntryDescriptions
from gateway.fraud.matcher import InvalidBlocklistValue, normalise
from gateway.fraud.mirror import BlocklistMirror
from gateway.fraud.schemas import (
    BIGINT_MAX,
    BlocklistEntryCreate,
    BlocklistEntryRead,
    BlocklistPage,
    ScreenMatch,
    ScreenRequest,
    ScreenResult,
)
from gateway.fraud.screening import KindName, explain
from gateway.i18n import Message
from gateway.idempotency.answers import AnswerSlot, earlier_answer, store_answer
from gateway.tickets import (
    TICKET_ID_SQL,
    TicketError,
    canonical_ticket_or_none,
    display_ticket,
    ticket_lookup,
)

SCREENED_FIELDS = ("ip", "card_fingerprint", "card_bin", "email", "iban", "customer")
MAX_EXPIRY = timedelta(days=36525)  # 100 years


@dataclass(frozen=True)
class EntryFilters:
    kind: str | None = None
    value: str | None = None  # exact, normalised as an entry of `kind` would be
    source_ticket: str | None = None
    include_removed: bool = False
    cursor: str | None = None
    limit: int = 50


def _invalid(error: InvalidBlocklistValue) -> BillingError:
    sentence = error.sentence
    return BillingError(
        ErrorCode.BLOCKLIST_VALUE_INVALID,
        sentence if sentence[-1:] in ".?!" else Message("{sentence}.", sentence=sentence),
    )


def refuse_sensitive_value(kind: str, value: str) -> None:
    """A value of any kind but iban (whose value is an IBAN, kept only as its keyed hash) is
    stored and shown as given: it may hold no IBAN or card number (and neither is repeated in
    the refusal)."""
    refuse_card_or_iban(
        value,
        card=Message(
            "The value looks like a card number. The gateway never accepts card numbers: "
            "block the card by the provider's fingerprint or by its BIN."
        ),
        iban=Message(
            "The value of this {kind} entry holds an IBAN. Block an IBAN as an entry of "
            "kind iban, where it is kept only as a keyed hash.",
            kind=KindName(kind),
        ),
    )


def refuse_sensitive_free_text(*texts: str | None) -> None:
    """Reasons and tickets are shown as given: no IBAN or card number may sit in them."""
    refuse_card_or_iban(
        *texts,
        card=Message(
            "A reason or ticket holds what looks like a card number. The gateway never "
            "accepts card numbers: block the card by its fingerprint or BIN instead."
        ),
        iban=Message(
            "A reason or ticket holds an IBAN. Remove it: block the IBAN as an entry of "
            "kind iban, where it is kept only as a keyed hash."
        ),
    )


def _subject(kind: str, value: str) -> str | None:
    """A blocked customer's entries are filed under that customer, so `audit forget` reaches
    them; other values (a card, an IP) belong to no one the gateway knows."""
    return value if kind == "customer" else None


def _no_entry(entry_id: int) -> BillingError:
    return BillingError(
        ErrorCode.BLOCKLIST_ENTRY_NOT_FOUND,
        Message("No blocklist entry has the id {entry}.", entry=entry_id),
    )


def _actor_name(kind: str | None, actor_id: str | None) -> str | None:
    return f"{kind}:{actor_id}" if kind else None


_SOURCE_TICKET_ID = TICKET_ID_SQL.replace("ticket", "source_ticket")
_SOURCE_TICKET_MAX = 130  # the column's width


def source_ticket(text: str | None) -> str | None:
    """Where a block comes from, as one ticket: "zendesk #1001" is stored as zendesk:1001."""
    ticket = canonical_ticket_or_none(text)
    if ticket is not None and len(ticket) > _SOURCE_TICKET_MAX:
        raise TicketError(
            Message("The source ticket is too long (at most {most}).", most=_SOURCE_TICKET_MAX)
        )
    return ticket


def to_read(row: dict[str, Any]) -> BlocklistEntryRead:
    expires_at = row["expires_at"]
    return BlocklistEntryRead(
        id=row["id"],
        kind=row["kind"],
        display=row["display"],
        reason=row["reason"],
        source_ticket=row["source_ticket"],
        source_ticket_display=display_ticket(row["source_ticket"]) or None,
        author=f"{row['author_type']}:{row['author_id']}",
        created_at=row["created_at"],
        expires_at=expires_at,
        active=row["removed_at"] is None and (expires_at is None or expires_at > datetime.now(UTC)),
        removed_at=row["removed_at"],
        removed_by=_actor_name(row["removed_by_type"], row["removed_by_id"]),
        removal_reason=row["removal_reason"],
    )


class BlocklistService:
    def __init__(self, cipher: Cipher, mirror: BlocklistMirror) -> None:
        self._cipher = cipher
        self.mirror = mirror
        self._descriptions = EntryDescriptions()

    # -- values -----------------------------------------------------------------------------

    def stored_form(self, kind: str, value: str) -> tuple[str, str]:
        """(what the database and the matcher hold, what people see). An IBAN is validated,
        then kept only as its keyed hash and shown as country + last 4."""
        if kind == "iban":
            iban = bank_details.validate_iban(value, None)
            return self._cipher.keyed_hash(iban.compact, purpose=IBAN_HASH_PURPOSE), iban.masked
        refuse_sensitive_value(kind, value)
        try:
            canonical = normalise(kind, value)
        except InvalidBlocklistValue as error:
            raise _invalid(error) from None
        return canonical, canonical

    def iban_query(self, value: str) -> str:
        """An IBAN to screen, as its keyed hash (an invalid one simply matches nothing)."""
        return self._cipher.keyed_hash(bank_details.compact_iban(value), purpose=IBAN_HASH_PURPOSE)

    # -- blocking and unblocking ------------------------------------------------------------

    async def block(
        self,
        entry: BlocklistEntryCreate,
        actor: Actor,
        *,
        import_id: Any = None,
        stored: tuple[str, str] | None = None,
        answer: AnswerSlot | None = None,
    ) -> BlocklistEntryRead:
        """Block one value; `stored` is its stored form when already worked out (an import
        hashes IBANs when it is filed). The answer is stored in `answer` with the block."""
        if entry.expires_at is not None and entry.expires_at <= datetime.now(UTC):
            raise BillingError(
                ErrorCode.BLOCKLIST_EXPIRY_IN_PAST,
                Message(
                    "expires_at is in the past: give a future time, or none for a block that lasts."
                ),
            )
        # The last microsecond of year 9999 is PostgreSQL's "infinity" to asyncpg, read back
        # without its time zone: a bound well short of it keeps every expiry a real time.
        if entry.expires_at is not None and entry.expires_at > datetime.now(UTC) + MAX_EXPIRY:
            raise BillingError(
                ErrorCode.BLOCKLIST_EXPIRY_TOO_FAR,
                Message(
                    "expires_at is more than 100 years away: give an earlier time, or none for a"
                    " block that lasts."
                ),
            )
        refuse_sensitive_free_text(entry.reason, entry.source_ticket)
        entry = msgspec.structs.replace(entry, source_ticket=source_ticket(entry.source_ticket))
        value, display = stored or self.stored_form(entry.kind, entry.value)
        try:
            async with transaction():
                earlier = await earlier_answer(answer, BlocklistEntryRead)
                if earlier is not None:  # a retry that took over from a slow first attempt
                    return earlier
                for closed in await fetch(queries.CLOSE_EXPIRED, entry.kind, value):
                    await append(
                        AuditEntry(
                            action=Action.BLOCKLIST_EXPIRE_ENTRY_SUCCEEDED,
                            actor=SYSTEM,
                            about={**closed, "kind": entry.kind, "value": value},
                            reason="expired; the value is blocked again",
                            before={"kind": entry.kind, "display": closed["display"]},
                        )
                    )
                [row] = await fetch(
                    queries.INSERT,
                    entry.kind,
                    value,
                    display,
                    entry.reason,
                    entry.source_ticket,
                    actor.kind,
                    actor.id,
                    entry.expires_at,
                    import_id,
                )
                await append(
                    AuditEntry(
                        action=Action.BLOCKLIST_CREATE_ENTRY_SUCCEEDED,
                        actor=actor,
                        about={**row, "kind": entry.kind, "value": value},
                        reason=entry.reason,
                        after={
                            "kind": entry.kind,
                            "display": display,
                            "source_ticket": entry.source_ticket,
                            "expires_at": entry.expires_at.isoformat()
                            if entry.expires_at
                            else None,
                        },
                    )
                )
                read = to_read(row)
                await store_answer(answer, HTTP_201_CREATED, read)
        except UniqueViolationError:
            existing = await fetch(queries.BLOCKING, entry.kind, value)
            if not existing:  # unblocked between the two statements: block it now
                return await self.block(
                    entry, actor, import_id=import_id, stored=stored, answer=answer
                )
            raise BillingError(
                ErrorCode.BLOCKLIST_ENTRY_EXISTS,
                Message(
                    "This {kind} is already blocked (entry {entry}); unblock that entry first "
                    "to change its reason or expiry.",
                    kind=KindName(entry.kind),
                    entry=existing[0]["id"],
                ),
                extra={"existing_id": str(existing[0]["id"])},
            ) from None
        self.mirror.apply([row])  # this process sees its own change at once
        return read

    async def unblock(
        self, entry_id: int, reason: str, actor: Actor, *, repeatable: bool = False
    ) -> BlocklistEntryRead:
        """`repeatable` (the API's DELETE, which carries no Idempotency-Key): a repeat by the
        same actor with the same reason is the same request and gets the first answer again,
        so a client whose answer was lost may simply retry. Otherwise, and for anyone else, the
        entry is already removed."""
        refuse_sensitive_free_text(reason)
        if not 1 <= entry_id <= BIGINT_MAX:  # no such id can exist
            raise _no_entry(entry_id)
        async with transaction():
            rows = await fetch(queries.REMOVE, entry_id, actor.kind, actor.id, reason)
            if not rows:
                repeated = repeatable and await fetch(
                    queries.REMOVED_BY, entry_id, actor.kind, actor.id, reason
                )
                if repeated:
                    return to_read(repeated[0])
                raise await self._why_not_removable(entry_id)
            row = rows[0]
            await append(
                AuditEntry(
                    action=Action.BLOCKLIST_REMOVE_ENTRY_SUCCEEDED,
                    actor=actor,
                    about=row,
                    target_id=str(entry_id),
                    reason=reason,
                    before={"kind": row["kind"], "display": row["display"], "active": True},
                    after={"active": False},
                )
            )
        self.mirror.apply([row])
        return to_read(row)

    async def _why_not_removable(self, entry_id: int) -> BillingError:
        rows = await fetch(queries.REMOVED_AT, entry_id)
        if not rows:
            return _no_entry(entry_id)
        return BillingError(
            ErrorCode.BLOCKLIST_ENTRY_ALREADY_REMOVED,
            Message(
                "Blocklist entry {entry} was already unblocked on {when} UTC; nothing changed.",
                entry=entry_id,
                when=rows[0]["removed_at"].strftime("%Y-%m-%d %H:%M"),
            ),
        )

    # -- reading ----------------------------------------------------------------------------

    async def get(self, entry_id: int) -> BlocklistEntryRead:
        """A live (or expired) entry; an unblocked one is gone here, as after any DELETE, and
        stays in the list's history (`include_removed`) and the audit trail."""
        rows = await fetch(queries.LIVE_ENTRY, entry_id) if 1 <= entry_id <= BIGINT_MAX else []
        if not rows:
            raise BillingError(
                ErrorCode.BLOCKLIST_ENTRY_NOT_FOUND,
                Message(
                    "No blocklist entry has the id {entry}, or it was unblocked (see the list "
                    "with include_removed=true).",
                    entry=entry_id,
                ),
            )
        return to_read(rows[0])

    async def list(self, filters: EntryFilters) -> BlocklistPage:
        conditions: list[str] = ["TRUE"]
        args: list[Any] = []
        if not filters.include_removed:
            conditions.append(queries.LIVE)
        if filters.value and filters.kind in (None, "iban"):
            raise BillingError(
                ErrorCode.BLOCKLIST_VALUE_INVALID,
                Message(
                    "value needs kind (and an IBAN is never looked up in a URL: screen it with "
                    "POST /v1/fraud/screen instead)."
                ),
            )
        if filters.kind:
            args.append(filters.kind)
            conditions.append(f"kind = ${len(args)}")
            if filters.value:
                args.append(self.stored_form(filters.kind, filters.value)[0])
                conditions.append(f"value = ${len(args)}")
        if filters.source_ticket:  # any spelling; the id alone matches it in any system
            wanted = ticket_lookup(filters.source_ticket)
            args.append(wanted.ticket or wanted.ticket_id)
            column = "source_ticket" if wanted.ticket else _SOURCE_TICKET_ID
            conditions.append(f"{column} = ${len(args)}")
        if filters.cursor:
            created_at, entry_id = decode_cursor(filters.cursor, int)
            args += [created_at, entry_id]
            conditions.append(f"(created_at, id) < (${len(args) - 1}, ${len(args)})")
        args.append(filters.limit + 1)
        rows = await fetch(
            f"{queries.SELECT_ENTRIES}{' AND '.join(conditions)}"
            f" ORDER BY created_at DESC, id DESC LIMIT ${len(args)}",
            *args,
        )
        items = [to_read(row) for row in rows[: filters.limit]]
        more = len(rows) > filters.limit
        next_cursor = encode_cursor(items[-1].created_at, items[-1].id) if more else None
        return BlocklistPage(items=items, next_cursor=next_cursor)

    # -- screening --------------------------------------------------------------------------

    async def screen(self, request: ScreenRequest) -> ScreenResult:
        asked = {name: getattr(request, name) for name in SCREENED_FIELDS}
        if not any(asked.values()):
            raise BillingError(
                ErrorCode.SCREEN_NOTHING_GIVEN,
                Message(
                    "Give at least one of ip, card_fingerprint, card_bin, email, iban or "
                    "customer to screen."
                ),
            )
        return await self.screen_values([(k, v) for k, v in asked.items() if v])

    async def screen_values(self, asked: Iterable[tuple[str, str]]) -> ScreenResult:
        """(screened field, value) pairs; an IBAN in clear (hashed here) or, as `iban_hash`,
        already hashed."""
        try:
            await self.mirror.ensure_started()
        except (OSError, asyncpg.PostgresError):
            raise BillingError(
                ErrorCode.SERVICE_UNAVAILABLE,
                Message("The fraud-stop lists cannot be read right now; retry in a few seconds."),
                headers={"Retry-After": "5"},
            ) from None
        matcher = self.mirror.matcher
        hits: dict[int, tuple[str, str]] = {}
        for field, value in asked:
            kind, query = field, value
            if field == "iban":
                query = self.iban_query(value)
            elif field == "iban_hash":
                kind = "iban"
            try:
                for entry_id in matcher.match(kind, query):
                    hits.setdefault(entry_id, (kind, value))
            except InvalidBlocklistValue as error:
                raise _invalid(error) from None
        if not hits:
            return ScreenResult(decision="allow", matches=[])
        matches = [
            ScreenMatch(
                entry_id=entry.id,
                kind=entry.kind,
                display=entry.display,
                reason=entry.reason,
                source_ticket=entry.source_ticket,
                # English text: msgspec encodes no Message (the API's answer is English anyway)
                why=str(explain(hits[entry.id][0], hits[entry.id][1], entry.kind, entry.display)),
            )
            for entry in await self._descriptions.of(matcher, list(hits))
        ]
        return ScreenResult(decision="block" if matches else "allow", matches=matches)
