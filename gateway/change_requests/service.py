"""Filing, reading and cancelling change requests: validation, policy, encryption, audit."""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import msgspec
from asyncpg.exceptions import UniqueViolationError
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from audit import AuditEntry, append
from audit import store as audit_store
from audit.actions import Action
from gateway import bank_details
from gateway.api_keys.service import ApiClient
from gateway.change_requests import plan_policy, queries
from gateway.change_requests.contact_reasons import reasons_fit_kind
from gateway.change_requests.filed_ticket import filed_ticket, ticket_as_written
from gateway.change_requests.fraud_targets import FraudTargets
from gateway.change_requests.fulfilment_queries import ANY_STEP_CALLED
from gateway.change_requests.mapping import read_with_runs, to_read
from gateway.change_requests.new_row import new_row
from gateway.change_requests.notification_events import (
    filed_event_values,
    record_transition,
)
from gateway.change_requests.same_iban import nothing_on_file, same_iban
from gateway.change_requests.schemas import (
    ChangeRequestCreate,
    ChangeRequestPage,
    ChangeRequestRead,
    IbanChangeCreate,
    IbanChangeSummary,
    IdentityChecked,
    PlanChangeCreate,
    PlanChangeSummary,
    TierSummary,
)
from gateway.change_requests.states import (
    Kind,
    Status,
    Transition,
    next_status,
)
from gateway.change_requests.tables import ChangeRequest
from gateway.core.crypto import Cipher
from gateway.core.cursor import decode_cursor, encode_cursor
from gateway.core.customers import CUSTOMER_REFERENCES
from gateway.core.db.connection import engine, fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import (
    redact_text,
    refuse_card_or_iban,
    strings_in,
)
from gateway.fraud.screening import blocked_refusal
from gateway.fulfilment_schemas import FulfilmentRead
from gateway.idempotency.answers import (
    CONTENT_TYPE,
    AnswerSlot,
    KeyTaken,
    claim_before_refusing,
    earlier_answer,
    encoded,
    mark_stored,
    slot_for,
    store_answer,
)
from gateway.idempotency.context import IdempotencyContext
from gateway.notifications.outbox import kick_after_commit
from gateway.tickets import display_ticket, ticket_lookup
from settings import Settings

if TYPE_CHECKING:
    from gateway.fraud.service import BlocklistService

IBAN_CONTEXT = "change_request.iban"


@dataclass(frozen=True)
class ListFilters:
    status: Status | None = None
    kind: Kind | None = None
    ticket: str | None = None
    customer: str | None = None
    cursor: str | None = None
    limit: int = 50


def _not_found(request_id: uuid.UUID) -> BillingError:
    # Another client's request is "not found" too: a 403 would tell that it exists.
    return BillingError(
        ErrorCode.CHANGE_REQUEST_NOT_FOUND, f"No change request has the id {request_id}."
    )


def _visible_to(client: ApiClient) -> str | None:
    """A key reads and cancels its own client's requests; the all-clients scope lifts that."""
    return None if client.sees_all_clients else client.client


async def _with_same_iban(row: ChangeRequest, client: ApiClient) -> None:
    """Put in the row's details the requests already filed with its IBAN (read now)."""
    customer = {name: getattr(row, name) for name in CUSTOMER_REFERENCES}
    assert row.iban_hash is not None  # an IBAN change's row
    on_file = await same_iban(row.iban_hash, client.client, customer)
    details: dict[str, Any] = row.details  # type: ignore[assignment]  # JSONB: a dict here
    row.details = {
        **details,
        "other_requests_with_same_iban": msgspec.to_builtins(on_file.own_requests),
        "iban_on_file_for_another_customer": on_file.another_customer,
    }


def _refuse_ibans_in_free_text(fields: dict[str, Any]) -> None:
    """Free-text fields are stored and shown as given, so an IBAN may only sit in payload.iban."""
    refuse_card_or_iban(
        *strings_in(fields),
        iban="An IBAN appears in a field other than payload.iban (a name, note or reference). "
        "Remove it from there: bank details go only in payload.iban, where they are encrypted.",
    )


# Raises when a Connect payout holder is not the partner's legal name (account id, holder);
# passes when the account cannot be read now (it is checked again before applying).
HolderCheck = Callable[[str, str], Awaitable[None]]
# A request's runs at the providers, oldest first (gateway/fulfilment/, which sits above).
RunsOf = Callable[[uuid.UUID], Awaitable[FulfilmentRead]]
PROOF_OF_ADDRESS_MONTHS = 3


def _months_before(day: date, months: int) -> date:
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _identity(identity: IdentityChecked) -> dict[str, Any]:
    """The facts the agent checked, as stored; a proof of address must be recent."""
    proof = identity.proof_of_address_dated
    today = datetime.now(UTC).date()
    if proof is not None and not _months_before(today, PROOF_OF_ADDRESS_MONTHS) <= proof <= today:
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            f"The proof of address is dated {proof.isoformat()}: it must be dated within the "
            f"last {PROOF_OF_ADDRESS_MONTHS} months (and not in the future). Ask the customer "
            "for a recent one.",
        )
    return dict(msgspec.to_builtins(identity))


async def _refuse_if_applied(request_id: uuid.UUID) -> None:
    """A request any step of which reached a provider is not withdrawn: it was done (a
    rejected review sends it back to the specialist instead)."""
    if await fetch(ANY_STEP_CALLED, request_id):
        raise BillingError(
            ErrorCode.INVALID_TRANSITION,
            "This request was applied at a provider, so it cannot be cancelled; file a new "
            "request to change it back.",
            extra={"current_status": Status.REJECTED.value},
        )


class ChangeRequestService:
    def __init__(
        self,
        settings: Settings,
        cipher: Cipher,
        blocklist: BlocklistService,
        *,
        runs_of: RunsOf,
        holder_check: HolderCheck | None = None,
    ) -> None:
        self._settings = settings
        self._cipher = cipher
        self._blocklist = blocklist
        self._runs_of = runs_of
        self._holder_check = holder_check

    async def create(
        self,
        request: ChangeRequestCreate,
        client: ApiClient,
        idempotency: IdempotencyContext | None,
    ) -> ChangeRequestRead:
        if idempotency and idempotency.recovering:  # filed before answers were stored with it?
            earlier = await self._find_by_idempotency_key(client, idempotency.key)
            if earlier is not None:
                return earlier
        answer = slot_for(client.id, idempotency)
        try:  # every refusal audited, the open duplicate found by the filing statement too
            row = await self._new_row(request, client, idempotency.key if idempotency else None)
            return await self._insert(row, client, answer)
        except KeyTaken:
            raise  # nothing refused: the key is another attempt's (the body guard answers)
        except BillingError as refused:
            await claim_before_refusing(answer)  # the key's holder alone audits its refusal
            await append(
                AuditEntry(
                    action=Action.CHANGE_REQUEST_CREATE_REFUSED,
                    actor=client.actor,
                    about=msgspec.structs.asdict(request.customer),
                    target_id=redact_text(ticket_as_written(request)),
                    reason=refused.code.value,
                )
            )
            raise

    async def _new_row(
        self, request: ChangeRequestCreate, client: ApiClient, idempotency_key: str | None
    ) -> ChangeRequest:
        fields = msgspec.to_builtins(request)
        fields["payload"].pop("iban", None)
        _refuse_ibans_in_free_text(fields)
        customer = request.customer
        if not any(msgspec.structs.asdict(customer).values()):
            raise BillingError(
                ErrorCode.CUSTOMER_UNIDENTIFIED,
                "Name the customer: give at least one of its references (Zuora account, Stripe "
                "customer or Connect account, back-office id or company name).",
            )
        kind = Kind.IBAN_CHANGE if isinstance(request, IbanChangeCreate) else Kind.PLAN_CHANGE
        ticket, ticket_url = filed_ticket(request)
        row = new_row(
            kind=kind,
            status=Status.NEW,
            ticket=ticket,
            ticket_url=ticket_url,
            requester=msgspec.to_builtins(request.requester),
            contact_reasons=request.contact_reasons,
            contact_reasons_fit_kind=reasons_fit_kind(
                self._settings, kind, request.contact_reasons
            ),
            api_key=client.id,
            client=client.client,
            idempotency_key=idempotency_key,
            **msgspec.structs.asdict(customer),
        )
        if isinstance(request, IbanChangeCreate):
            await self._fill_iban_change(row, request, client)
        else:
            self._fill_plan_change(row, request)
        if request.identity is not None:
            filed: dict[str, Any] = row.details  # type: ignore[assignment]  # JSONB: a dict here
            row.details = {**filed, "identity": _identity(request.identity)}
        await self._refuse_if_blocked(request, row)
        return row

    async def _refuse_if_blocked(self, request: ChangeRequestCreate, row: ChangeRequest) -> None:
        """Fraud-stop: the customer's references, the emails, the IBAN and the IP the customer
        wrote from are screened, as a filed request is screened again when it is processed;
        any live block refuses the whole request (nothing is stored)."""
        references = msgspec.structs.asdict(request.customer)
        holder_email = (
            request.payload.account_holder_email if isinstance(request, IbanChangeCreate) else None
        )
        filed = FraudTargets(
            ticket=display_ticket(row.ticket),
            requester_email=request.requester.email,
            requester_ip=request.requester.ip,
            holder_email=holder_email,
            iban_hash=row.iban_hash,
            iban_masked=None,
            customer_references=tuple(
                references[name] for name in CUSTOMER_REFERENCES if references[name]
            ),
        )
        result = await self._blocklist.screen_values(filed.screen_queries())
        if result.matches:
            raise blocked_refusal(result.matches)

    async def _fill_iban_change(
        self, row: ChangeRequest, request: IbanChangeCreate, client: ApiClient
    ) -> None:
        payload = request.payload
        iban = bank_details.validate_iban(payload.iban, payload.bic)
        bank_details.require_holder_address(
            iban.country, payload.account_holder_address is not None
        )
        bank_details.require_holder_email(payload.targets, payload.account_holder_email is not None)
        partner = request.customer.stripe_connect_account_id
        if self._holder_check and partner and "stripe_connect_payout" in payload.targets:
            await self._holder_check(partner, payload.account_holder)
        row.iban_ciphertext = self._cipher.encrypt(iban.compact, context=IBAN_CONTEXT)
        row.iban_hash = self._cipher.keyed_hash(
            iban.compact, purpose=bank_details.IBAN_HASH_PURPOSE
        )
        # The common case: nobody filed this IBAN. The filing statement checks it, in its own
        # snapshot; when it finds one, _insert reads them and files again (_with_same_iban).
        on_file = nothing_on_file()
        row.details = msgspec.to_builtins(
            IbanChangeSummary(
                iban_masked=iban.masked,
                iban_country=iban.country,
                bank_name=iban.bank_name,
                bic=iban.bic,
                account_holder=payload.account_holder,
                account_holder_email=payload.account_holder_email,
                targets=sorted(set(payload.targets)),
                other_requests_with_same_iban=on_file.own_requests,
                iban_on_file_for_another_customer=on_file.another_customer,
                account_holder_address=payload.account_holder_address,
            )
        )

    def _fill_plan_change(self, row: ChangeRequest, request: PlanChangeCreate) -> None:
        payload = request.payload
        decision = plan_policy.decide(
            self._settings,
            current=payload.current_tier,
            target=payload.target_tier,
            committed=payload.committed,
            contract_signed_on=payload.contract_signed_on,
            today=datetime.now(UTC).date(),
        )
        row.details = msgspec.to_builtins(
            PlanChangeSummary(
                subscription_ref=payload.subscription_ref,
                current_tier=payload.current_tier,
                target_tier=TierSummary(**decision.target.model_dump()),
                direction=decision.direction,
                committed=payload.committed,
                consent_channel=payload.consent_channel,
                contract_signed_on=payload.contract_signed_on,
                needs_new_contract=decision.needs_new_contract,
            )
        )

    async def _insert(
        self, row: ChangeRequest, client: ApiClient, answer: AnswerSlot | None
    ) -> ChangeRequestRead:
        fresh = None
        if answer is not None and answer.fresh is not None:
            fresh = (answer.fresh.fingerprint, answer.fresh.method, answer.fresh.path)
        # An IBAN change's row says nobody filed its IBAN until the statement finds otherwise.
        unseen_iban = row.iban_hash if row.kind == Kind.IBAN_CHANGE else None
        replaced = 0
        while True:
            written = queries.row_dict(row)
            filed = to_read(written)
            body = encoded(filed)
            stored = (
                (answer.api_key_id, answer.key, HTTP_201_CREATED, CONTENT_TYPE, body)
                if answer
                else None
            )
            entry = AuditEntry(
                action=Action.CHANGE_REQUEST_CREATE_SUCCEEDED,
                actor=client.actor,
                about=written,
                after={"kind": row.kind, "status": row.status, "details": row.details},
            )
            event = await filed_event_values(written)
            prepared = await audit_store.prepare(entry)
            try:
                # One statement, one commit: the key's record locked (or claimed), the audit
                # entry, the row, the answer and the FILED event written together or not at all.
                earlier = await queries.file(
                    row, stored, audit=prepared, event=event, fresh=fresh, unseen_iban=unseen_iban
                )
            except queries.KeyTaken:
                assert answer is not None
                raise KeyTaken(answer) from None
            except UniqueViolationError:
                await self._raise_duplicate(row)
                raise
            except queries.IbanOnFile:
                await _with_same_iban(row, client)
                unseen_iban = None
                continue
            except queries.KeyReplaced:
                prepared.forget_key()  # the subject's key changed elsewhere: seal it again
                replaced += 1
                if replaced == 2:
                    raise RuntimeError(
                        f"no live data key for audit subject {prepared.subject!r}"
                    ) from None
                continue
            if earlier is not None:  # a retry that took over from a slow first attempt
                return msgspec.json.decode(earlier, type=ChangeRequestRead)
            await kick_after_commit()
            mark_stored(answer, HTTP_201_CREATED, body)
            return filed

    async def _raise_duplicate(self, row: ChangeRequest) -> None:
        existing = await fetch(queries.OPEN_DUPLICATE, row.client, row.kind, row.ticket)
        if existing:
            raise BillingError(
                ErrorCode.DUPLICATE_OPEN_REQUEST,
                f"Ticket {display_ticket(row.ticket)} already has an open {row.kind} "
                f"request ({existing[0]['id']}); update or cancel that one instead.",
                extra={"existing_id": str(existing[0]["id"])},
            )

    async def _find_by_idempotency_key(
        self, client: ApiClient, key: str
    ) -> ChangeRequestRead | None:
        found = await fetch(queries.FILED_WITH_KEY, client.id, key)
        return await self.get(found[0]["id"], client) if found else None

    async def get(self, request_id: uuid.UUID, client: ApiClient) -> ChangeRequestRead:
        row = await queries.read(request_id, _visible_to(client))
        if row is None:
            raise _not_found(request_id)
        return await read_with_runs(row, await self._runs_of(request_id))

    async def list(self, filters: ListFilters, client: ApiClient) -> ChangeRequestPage:
        rows = await queries.newest_first(
            _visible_to(client),
            status=filters.status,
            kind=filters.kind,
            ticket=ticket_lookup(filters.ticket) if filters.ticket else None,  # any spelling
            customer=filters.customer,
            before=decode_cursor(filters.cursor, uuid.UUID) if filters.cursor else None,
            limit=filters.limit + 1,
        )
        items = [to_read(row) for row in rows[: filters.limit]]
        more = len(rows) > filters.limit
        last = items[-1] if items else None
        return ChangeRequestPage(
            items=items,
            next_cursor=encode_cursor(last.created_at, last.id) if more and last else None,
        )

    async def cancel(
        self,
        request_id: uuid.UUID,
        reason: str,
        client: ApiClient,
        idempotency: IdempotencyContext | None = None,
    ) -> ChangeRequestRead:
        _refuse_ibans_in_free_text({"reason": reason})
        if idempotency and idempotency.recovering:  # cancelled before answers were stored?
            current = await self.get(request_id, client)
            if current.status == Status.CANCELLED and current.cancellation_reason == reason:
                return current
        answer = slot_for(client.id, idempotency)
        async with engine().transaction():
            earlier = await earlier_answer(answer, ChangeRequestRead)
            if earlier is not None:  # a retry that took over from a slow first attempt
                return earlier
            row = await queries.lock_status(request_id, _visible_to(client))
            if row is None:
                raise _not_found(request_id)
            target = next_status(Status(row["status"]), Transition.CANCEL)
            await _refuse_if_applied(request_id)
            await fetch(queries.CANCEL, request_id, target.value, reason, datetime.now(UTC))
            await append(
                AuditEntry(
                    action=Action.CHANGE_REQUEST_CANCEL_SUCCEEDED,
                    actor=client.actor,
                    about=row,
                    target_id=str(request_id),
                    reason=reason,
                    before={"status": row["status"]},
                    after={"status": target.value},
                )
            )
            await record_transition(request_id, Transition.CANCEL)
            cancelled = await self.get(request_id, client)
            await store_answer(answer, HTTP_200_OK, cancelled)
        return cancelled
