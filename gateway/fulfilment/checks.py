"""Live pre-checks of a change request, computed from what the providers hold now.

Read through the ports (never trusted from the filer), outside any database transaction, and
stored on the request (`change_requests.checks`) as the specialist's screen and the API show
them. Refreshed when a request is claimed, on demand, and by Apply right before it plans.

Rules worth knowing:
- A debit in flight is safe to change under once it settled: the collection date plus
  `SEPA_RETURN_BUSINESS_DAYS` TARGET business days (Mon-Fri), the SEPA Core rulebook's window
  in which the debtor's bank returns a debit for technical reasons (R-transactions).
- "The new IBAN is already there": providers never give an IBAN back, and a Stripe fingerprint
  is Stripe's keyed hash, which the gateway cannot compute for an IBAN it holds. So a method is
  the same account when country and last four digits match and the bank code matches where the
  provider gives one (Stripe's `bank_code`/`routing_number`), else the BIC's institution, else
  country and last four alone (said so in the sentence).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
from schwifty import IBAN

from adapters.money import format_money
from adapters.ports import (
    Account,
    AccountLookup,
    Collection,
    Collections,
    ConnectedAccount,
    Contact,
    Contacts,
    PaymentMethod,
    PayoutAccounts,
    Subscriptions,
)
from audit import AuditEntry, append
from audit.actions import Action
from gateway.change_requests import queries
from gateway.change_requests.mapping import CUSTOMER_COLUMNS
from gateway.change_requests.notification_events import record_change_request_event
from gateway.change_requests.same_iban import same_iban
from gateway.core.crypto import Cipher
from gateway.core.db.connection import fetch, transaction
from gateway.core.db.rows import as_json, loaded
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import sensitive_kind
from gateway.fulfilment.identity import (
    ProviderRecord,
    compare_identity,
    holder_finding,
    identity_findings,
    record_of,
)
from gateway.fulfilment.preview import bound_preview, change_for, seat_charge
from gateway.fulfilment.sentences import target_words
from gateway.fulfilment_schemas import (
    Checks,
    CollectionView,
    ContractReturn,
    Finding,
    MethodView,
    PayoutView,
    PlanPreview,
    TargetState,
)
from gateway.i18n import N_, Message
from gateway.notifications.events import EventType
from gateway.providers import Providers
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import PlanTier, Settings

SEPA_RETURN_BUSINESS_DAYS = 5
INTAKE_READ_SECONDS = 3.0  # filing never waits longer on Stripe for the holder check
BANK_KINDS = frozenset({"sepa_debit", "bank_transfer"})
PROVIDER_OF_TARGET = {
    "zuora_collection": "zuora",
    "stripe_customer_debit": "stripe",
    "stripe_connect_payout": "stripe",
}
_PAYOUT_MOVING = frozenset({"pending", "in_transit"})
_IBAN_CONTEXT = "change_request.iban"  # gateway.change_requests.service.IBAN_CONTEXT


# -- the request as the checks see it ----------------------------------------------------------


@dataclass(frozen=True)
class NewIban:
    """What the checks need of the new IBAN; the IBAN itself never leaves `load_request`."""

    country: str
    last4: str
    bank_code: str | None
    bic: str | None

    @property
    def masked(self) -> str:
        return f"{self.country}****{self.last4}"


@dataclass(frozen=True)
class CheckedRequest:
    id: UUID
    kind: str
    details: dict[str, Any]
    references: dict[str, str | None]
    new_iban: NewIban | None = None
    another_customer_has_iban: bool = False
    contract_return: ContractReturn | None = None
    today: date = field(default_factory=lambda: datetime.now(UTC).date())


def new_iban_of(compact: str, bic: str | None) -> NewIban:
    try:
        bank_code: str | None = IBAN(compact).bank_code or None
    except Exception:
        bank_code = None
    return NewIban(compact[:2], compact[-4:], bank_code, bic)


# -- formatting --------------------------------------------------------------------------------


def masked_id(provider_id: str) -> str:
    """Enough of a provider's id to find it in its console, not a copy of it."""
    return provider_id if len(provider_id) <= 8 else f"…{provider_id[-6:]}"


def business_days_after(day: date, count: int) -> date:
    while count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def _provider_word(provider: str) -> str:
    return "Zuora" if provider == "zuora" else "Stripe"


# -- matching the new IBAN ---------------------------------------------------------------------


def _normal(code: str | None) -> str:
    return "".join(character for character in (code or "").upper() if character.isalnum())


def same_account(new: NewIban, method: PaymentMethod) -> tuple[bool, str]:
    """Whether `method` is the new IBAN's account, and by what it was compared."""
    masked = method.masked or ""
    if masked[:2].upper() != new.country or masked[-4:] != new.last4:
        return False, "country and last four digits"
    if method.bank_code and new.bank_code:
        known = {_normal(new.bank_code), _normal(new.bic), _normal(new.bic)[:8]} - {""}
        return _normal(method.bank_code) in known, "bank code"
    if method.bic and new.bic:
        return _normal(method.bic)[:8] == _normal(new.bic)[:8], "BIC"
    return True, "country and last four digits only"


def _method_view(method: PaymentMethod) -> MethodView:
    return MethodView(
        id=method.id,
        masked=method.masked,
        kind=method.kind,
        active=method.active,
        is_default=method.is_default,
    )


# -- the service -------------------------------------------------------------------------------


class ChecksService:
    def __init__(self, settings: Settings, providers: Providers, cipher: Cipher) -> None:
        self._settings = settings
        self._providers = providers
        self._cipher = cipher

    # public ------------------------------------------------------------------------------------

    async def refresh(self, request_id: UUID, moment: str) -> Checks:
        """Read the providers (outside any transaction), store and return the checks."""
        request = await self.load_request(request_id)
        checks = await self.compute(request, moment)
        async with transaction():
            await fetch(queries.STORE_CHECKS, request_id, as_json(checks))
            if moment != "apply":  # Apply tells of itself: applying, or why it was refused
                await record_change_request_event(EventType.CHANGE_REQUEST_CHECKS_READY, request_id)
        return checks

    async def stored(self, request_id: UUID) -> Checks | None:
        """The checks last stored on the request, without asking the providers."""
        rows = await fetch(queries.ROW, request_id)
        stored = loaded(rows[0]["checks"]) if rows else None
        return msgspec.convert(stored, Checks) if stored else None

    async def record_contract_return(
        self, staff: StaffMember, request_id: UUID, how: str, received_on: date
    ) -> Checks:
        """A specialist (or team lead) records that the customer's new contract came back
        signed: who, when, how. Audited; lifts `needs_new_contract`."""
        if staff.role not in (Role.SPECIALIST, Role.TEAM_LEAD):
            raise BillingError(
                ErrorCode.ROLE_NOT_ALLOWED, Message("Only a specialist or a team lead can do this.")
            )
        how = how.strip()
        # Not refuse_card_or_iban: bank or card details here are one more way of not saying
        # how, refused as a validation failure like the others.
        if not how or len(how) > 500 or sensitive_kind(how):
            raise BillingError(
                ErrorCode.VALIDATION_FAILED,
                Message(
                    "Say in a few words how the signed contract came back (for example: "
                    "'signed PDF by email from the customer's director'), without bank or card "
                    "details."
                ),
            )
        today = datetime.now(UTC).date()
        if received_on > today:
            raise BillingError(
                ErrorCode.VALIDATION_FAILED, Message("The contract's return date is in the future.")
            )
        record = ContractReturn(
            recorded_by_id=staff.id,
            recorded_by=staff.username,
            recorded_at=datetime.now(UTC),
            received_on=received_on,
            how=how,
        )
        async with transaction():
            rows = await fetch(queries.LOCK_ROW, request_id)
            if not rows:
                raise BillingError(
                    ErrorCode.CHANGE_REQUEST_NOT_FOUND,
                    f"No change request has the id {request_id}.",
                )
            details = loaded(rows[0]["details"])
            if rows[0]["kind"] != "plan_change" or not self._needs_contract(details):
                raise BillingError(
                    ErrorCode.VALIDATION_FAILED,
                    Message(
                        "This request needs no new contract: its contract was signed after the "
                        "terms changed."
                    ),
                )
            await fetch(queries.STORE_CONTRACT_RETURN, request_id, as_json(record))
            await append(
                AuditEntry(
                    action=Action.CHANGE_REQUEST_CONTRACT_RETURN_RECORDED,
                    actor=staff.actor,
                    about=rows[0],
                    target_id=str(request_id),
                    before={"contract_return": loaded(rows[0]["contract_return"])},
                    after={"contract_return": msgspec.to_builtins(record)},
                )
            )
        return await self.refresh(request_id, "manual")

    async def check_holder(self, connect_account: str, holder: str) -> None:
        """At intake: refuse a payout holder that is not the partner's legal name, when Stripe
        can be read now; it is checked again before Apply either way."""
        adapter = self._providers.get("stripe")
        if not isinstance(adapter, PayoutAccounts):
            return
        try:
            async with asyncio.timeout(INTAKE_READ_SECONDS):
                partner = await adapter.find_connected_account(AccountLookup(id=connect_account))
        except (BillingError, TimeoutError):
            return  # unreadable now: the claim and Apply check it again
        if partner is None:
            return
        finding = holder_finding(holder, partner.legal_name, partner.trading_name)
        if finding is not None and partner.legal_name is not None:
            raise BillingError(
                ErrorCode.HOLDER_NOT_LEGAL_NAME, finding.sentence, extra=finding.detail
            )

    # reading the request -----------------------------------------------------------------------

    async def load_request(self, request_id: UUID) -> CheckedRequest:
        rows = await fetch(queries.ROW, request_id)
        if not rows:
            raise BillingError(
                ErrorCode.CHANGE_REQUEST_NOT_FOUND, f"No change request has the id {request_id}."
            )
        row = rows[0]
        details = loaded(row["details"])
        references = {name: row[name] for name in CUSTOMER_COLUMNS}
        new_iban, elsewhere = None, False
        if row["iban_ciphertext"]:
            # Decrypted only to learn country, last four digits and bank code, then dropped.
            compact = self._cipher.decrypt(row["iban_ciphertext"], context=_IBAN_CONTEXT)
            new_iban = new_iban_of(compact, details.get("bic"))
            elsewhere = (
                await same_iban(row["iban_hash"], row["client"], references)
            ).another_customer
        contract = loaded(row["contract_return"])
        return CheckedRequest(
            id=row["id"],
            kind=row["kind"],
            details=details,
            references=references,
            new_iban=new_iban,
            another_customer_has_iban=elsewhere,
            contract_return=msgspec.convert(contract, ContractReturn) if contract else None,
        )

    # computing ---------------------------------------------------------------------------------

    async def compute(self, request: CheckedRequest, moment: str) -> Checks:
        """The checks from the providers' state; no database access."""
        records: list[ProviderRecord] = []
        preview: PlanPreview | None = None
        if request.kind == "iban_change":
            targets = list(request.details.get("targets") or [])
            results = await asyncio.gather(*(self._iban_target(request, t) for t in targets))
            states = [state for state, _, _ in results]
            findings = [finding for _, found, _ in results for finding in found]
            records = [record for _, _, record in results if record is not None]
            if request.another_customer_has_iban:
                findings.append(_same_iban_finding())
        else:
            state, findings, record, preview = await self._plan(request)
            states = [state]
            records = [record] if record else []
        partner = "stripe_connect_payout" in (request.details.get("targets") or [])
        facts = compare_identity(request.details.get("identity"), records, partner=partner)
        findings += identity_findings(facts, bank_change=request.kind == "iban_change")
        return Checks(
            computed_at=datetime.now(UTC),
            moment=moment,  # type: ignore[arg-type]
            findings=findings,
            targets=states,
            preview=preview,
            identity=facts,
            contract_return=request.contract_return,
        )

    async def _account(self, adapter: Any, provider: str, refs: dict[str, Any]) -> Account | None:
        reference = refs["zuora_account_id"] if provider == "zuora" else refs["stripe_customer_id"]
        lookups = []
        if reference:
            lookups += [AccountLookup(number=reference), AccountLookup(id=reference)]
        if refs["backoffice_id"]:
            lookups.append(AccountLookup(backoffice_id=refs["backoffice_id"]))
        for lookup in lookups:
            found: Account | None = await adapter.find_account(lookup)
            if found is not None:
                return found
        return None

    async def _contact(self, adapter: Any, account_id: str) -> Contact | None:
        if isinstance(adapter, Contacts):
            return await adapter.contact_of(account_id)
        return None

    async def _iban_target(
        self, request: CheckedRequest, target: str
    ) -> tuple[TargetState, list[Finding], ProviderRecord | None]:
        provider = PROVIDER_OF_TARGET[target]
        adapter = self._providers.get(provider)
        empty = TargetState(
            target=target,
            provider=provider,
            account_id=None,
            account_name=None,
            default_method_id=None,
            readable=False,
        )
        if adapter is None:
            return empty, [_not_configured(target, provider)], None
        try:
            if target == "stripe_connect_payout":
                return await self._payout_target(request, adapter, empty)
            return await self._debit_target(request, adapter, empty)
        except BillingError as error:
            if error.code in (ErrorCode.PROVIDER_NOT_FOUND, ErrorCode.CUSTOMER_NOT_FOUND):
                return empty, [_account_not_found(target, provider)], None
            return empty, [_unreadable(target, provider, error)], None

    async def _debit_target(
        self, request: CheckedRequest, adapter: Any, empty: TargetState
    ) -> tuple[TargetState, list[Finding], ProviderRecord | None]:
        target, provider = empty.target, empty.provider
        account = await self._account(adapter, provider, request.references)
        if account is None:
            return empty, [_account_not_found(target, provider)], None
        findings: list[Finding] = []

        async def in_flight() -> Sequence[Collection]:
            if isinstance(adapter, Collections):
                return await adapter.collections_in_flight(account.id)
            findings.append(_collections_not_checked(target, provider))
            return []

        # Three reads of one account, at once (the adapters reuse the account just read).
        found_methods, collections, contact = await asyncio.gather(
            adapter.list_payment_methods(account.id),
            in_flight(),
            self._contact(adapter, account.id),
        )
        methods = list(found_methods)
        state, found = self._bank_state(request, target, provider, account, methods, collections)
        record = record_of(
            Message(
                "{provider} account {number}",
                provider=_provider_word(provider),
                number=account.number,
            ),
            [account.name],
            contact,
        )
        return state, findings + found, record

    def _bank_state(
        self,
        request: CheckedRequest,
        target: str,
        provider: str,
        account: Account,
        methods: Sequence[PaymentMethod],
        collections: Sequence[Collection],
    ) -> tuple[TargetState, list[Finding]]:
        findings: list[Finding] = []
        by_id = {method.id: method for method in methods}
        views = [
            _collection_view(c, by_id.get(c.payment_method_id or ""), request.today)
            for c in collections
        ]
        replaced, nothing_to_do, same = _replaced(request.new_iban, methods)
        if views:
            findings.append(_in_flight_finding(target, provider, views, nothing_to_do))
        findings += _method_findings(target, provider, methods, replaced, same, nothing_to_do)
        state = TargetState(
            target=target,
            provider=provider,
            account_id=account.id,
            account_name=account.name,
            default_method_id=account.default_payment_method_id,
            methods=[_method_view(method) for method in methods],
            replaced_method_ids=[] if nothing_to_do else [m.id for m in replaced],
            collections_in_flight=views,
            nothing_to_do=nothing_to_do,
        )
        return state, findings

    async def _payout_target(
        self, request: CheckedRequest, adapter: Any, empty: TargetState
    ) -> tuple[TargetState, list[Finding], ProviderRecord | None]:
        target, provider = empty.target, empty.provider
        if not isinstance(adapter, PayoutAccounts):
            return empty, [_not_configured(target, provider)], None
        partner = await _partner(adapter, request.references)
        if partner is None:
            return empty, [_account_not_found(target, provider)], None
        accounts = list(await adapter.list_payout_accounts(partner.id))
        payouts = [
            p for p in await adapter.recent_payouts(partner.id) if p.status in _PAYOUT_MOVING
        ]
        findings: list[Finding] = []
        holder = request.details.get("account_holder") or ""
        wrong_holder = holder_finding(holder, partner.legal_name, partner.trading_name)
        if wrong_holder is not None:
            findings.append(wrong_holder)
        replaced, nothing_to_do, same = _replaced(request.new_iban, accounts)
        findings += _method_findings(target, provider, accounts, replaced, same, nothing_to_do)
        in_transit = [
            PayoutView(
                id_masked=masked_id(p.id),
                amount_minor=p.amount.amount_minor,
                currency=p.amount.currency,
                status=p.status,
                bank_account_id=p.bank_account_id,
            )
            for p in payouts
        ]
        if in_transit:
            listed = "; ".join(
                f"{format_money(p.amount_minor, p.currency)} ({p.status.replace('_', ' ')}, payout "
                f"{p.id_masked})"
                for p in in_transit
            )
            findings.append(
                Finding(
                    code="payouts_in_transit",
                    target=target,
                    severity="info",
                    sentence=(
                        Message(
                            "Payouts on their way to the partner's current bank account: "
                            "{listed}. They still arrive there; only later payouts go to the new "
                            "account.",
                            listed=listed,
                        )
                    ),
                    detail={"payouts": msgspec.to_builtins(in_transit)},
                )
            )
        default = next((a.id for a in accounts if a.is_default), None)
        state = TargetState(
            target=target,
            provider=provider,
            account_id=partner.id,
            account_name=partner.legal_name or partner.trading_name,
            default_method_id=default,
            methods=[_method_view(account) for account in accounts],
            replaced_method_ids=[] if nothing_to_do else [a.id for a in replaced],
            payouts_in_transit=in_transit,
            nothing_to_do=nothing_to_do,
        )
        record = ProviderRecord(
            source=Message("Stripe Connect account {id}", id=partner.id),
            names=tuple(name for name in (partner.legal_name,) if name),
            extra_names=tuple(name for name in (partner.trading_name,) if name),
        )
        return state, findings, record

    # plan changes ------------------------------------------------------------------------------

    def _needs_contract(self, details: dict[str, Any]) -> bool:
        signed = details.get("contract_signed_on")
        return bool(signed) and date.fromisoformat(str(signed)) < (
            self._settings.contract_terms_changed_on
        )

    def _tier_of(self, quantity: int) -> PlanTier | None:
        return next(
            (t for t in self._settings.plan_tiers if t.min_seats <= quantity <= t.max_seats), None
        )

    async def _plan(
        self, request: CheckedRequest
    ) -> tuple[TargetState, list[Finding], ProviderRecord | None, PlanPreview | None]:
        details, refs = request.details, request.references
        reference = str(details.get("subscription_ref") or "")
        stripe_first = reference.startswith("sub_") or not refs["zuora_account_id"]
        provider = "stripe" if stripe_first and refs["stripe_customer_id"] else "zuora"
        target = f"{provider}_subscription"
        state = TargetState(
            target=target,
            provider=provider,
            account_id=None,
            account_name=None,
            default_method_id=None,
            readable=False,
        )
        contract = self._contract_finding(request, target)
        findings = [contract] if contract is not None else []
        adapter = self._providers.get(provider)
        if not isinstance(adapter, Subscriptions):
            return state, [*findings, _not_configured(target, provider)], None, None
        try:
            account = await self._account(adapter, provider, refs)
            if account is None:
                return state, [*findings, _account_not_found(target, provider)], None, None
            subscription = await adapter.active_subscription(account.id)
            contact = await self._contact(adapter, account.id)
        except BillingError as error:
            return state, [*findings, _unreadable(target, provider, error)], None, None
        record = record_of(
            Message(
                "{provider} account {number}",
                provider=_provider_word(provider),
                number=account.number,
            ),
            [account.name],
            contact,
        )
        state = TargetState(
            target=target,
            provider=provider,
            account_id=account.id,
            account_name=account.name,
            default_method_id=account.default_payment_method_id,
        )
        charge = seat_charge(subscription) if subscription else None
        if subscription is None or charge is None:
            findings.append(
                Finding(
                    code="subscription_not_found",
                    target=target,
                    severity="blocking",
                    sentence=Message(
                        "{provider} shows no active subscription with a seat charge for account "
                        "{account}. Check the customer's references.",
                        provider=_provider_word(provider),
                        account=account.number,
                    ),
                )
            )
            return state, findings, record, None
        if reference and reference != subscription.id:
            findings.append(
                Finding(
                    code="subscription_ref_differs",
                    target=target,
                    severity="warning",
                    needs_acknowledgement=True,
                    sentence=Message(
                        "The request names subscription {reference}, but the customer's active "
                        "subscription is {subscription}; the change would be made there.",
                        reference=reference,
                        subscription=subscription.id,
                    ),
                )
            )
        plan_findings, preview_wanted = self._tier_findings(request, target, charge.quantity)
        findings += plan_findings
        preview = None
        target_tier = self._settings.tier(str((details.get("target_tier") or {}).get("name")))
        if preview_wanted and target_tier is not None:
            current = self._tier_of(charge.quantity)
            change, proration_date = change_for(
                provider, account, subscription, charge, target_tier.max_seats, request.today
            )
            try:
                preview = await bound_preview(
                    adapter,
                    provider,
                    change,
                    proration_date,
                    current_tier=current.name if current else "unknown",
                    target_tier=target_tier.name,
                    quantity_before=charge.quantity,
                )
            except BillingError as error:
                if error.code is ErrorCode.PROVIDER_UNAVAILABLE:
                    findings.append(_unreadable(target, provider, error))
                else:
                    findings.append(
                        Finding(
                            code="preview_refused",
                            target=target,
                            severity="blocking",
                            sentence=Message(
                                "{provider} refused the price preview: {detail}",
                                provider=_provider_word(provider),
                                detail=error.detail,
                            ),
                            detail={"provider_code": error.code.value},
                        )
                    )
        if preview is not None:
            findings.append(_preview_finding(target, preview))
        return state, findings, record, preview

    def _contract_finding(self, request: CheckedRequest, target: str) -> Finding | None:
        if not self._needs_contract(request.details):
            return None
        signed = request.details.get("contract_signed_on")
        changed = self._settings.contract_terms_changed_on.isoformat()
        back = request.contract_return
        if back is not None:
            return Finding(
                code="needs_new_contract",
                target=target,
                severity="ok",
                sentence=Message(
                    "The new contract came back on {day} ({how}), recorded by {who}.",
                    day=back.received_on.isoformat(),
                    how=back.how,
                    who=back.recorded_by,
                ),
                detail={"received_on": back.received_on.isoformat()},
            )
        return Finding(
            code="needs_new_contract",
            target=target,
            severity="blocking",
            sentence=Message(
                "The contract was signed on {signed}, before the terms changed on {changed}: "
                "send the customer the new contract and record here when it comes back signed.",
                signed=signed,
                changed=changed,
            ),
            detail={"contract_signed_on": signed, "terms_changed_on": changed},
        )

    def _tier_findings(
        self, request: CheckedRequest, target: str, quantity: int
    ) -> tuple[list[Finding], bool]:
        """Tier from the provider's seat count, against what was filed; and whether a preview
        is worth asking for (not for a change that would be refused anyway)."""
        details = request.details
        current = self._tier_of(quantity)
        target_tier = self._settings.tier(str((details.get("target_tier") or {}).get("name")))
        findings: list[Finding] = []
        current_name = current.name if current else None
        findings.append(
            Finding(
                code="current_tier",
                target=target,
                severity="ok" if current else "warning",
                needs_acknowledgement=current is None,
                sentence=(
                    Message(
                        "The provider shows {quantity} seats: tier {tier}.",
                        quantity=quantity,
                        tier=current_name,
                    )
                    if current
                    else Message(
                        "The provider shows {quantity} seats, which fit no tier in the table.",
                        quantity=quantity,
                    )
                ),
                detail={"quantity": quantity, "tier": current_name},
            )
        )
        filed = details.get("current_tier")
        if filed and filed != current_name:
            findings.append(
                Finding(
                    code="current_tier_mismatch",
                    target=target,
                    severity="blocking",
                    sentence=Message(
                        "The request says the customer is on tier {filed}, but the provider "
                        "shows {quantity} seats (tier {tier}). Check with the customer and file "
                        "the request again with the right tier.",
                        filed=filed,
                        quantity=quantity,
                        tier=current_name or Message(N_("none")),
                    ),
                    detail={"filed": filed, "provider": current_name, "quantity": quantity},
                )
            )
        if target_tier is None:
            return findings, False
        after = target_tier.max_seats
        if after == quantity:
            findings.append(
                Finding(
                    code="tier_unchanged",
                    target=target,
                    severity="blocking",
                    sentence=Message(
                        "The subscription already has {quantity} seats, tier {tier}'s; nothing "
                        "to change.",
                        quantity=quantity,
                        tier=target_tier.name,
                    ),
                )
            )
            return findings, False
        if after < quantity:
            if details.get("committed"):
                findings.append(
                    Finding(
                        code="downgrade_not_allowed",
                        target=target,
                        severity="blocking",
                        sentence=Message(
                            "The provider shows {quantity} seats; tier {tier} ({after}) is a "
                            "downgrade, and a committed subscription is never downgraded. "
                            "Explain this to the customer and open a complaint.",
                            quantity=quantity,
                            tier=target_tier.name,
                            after=after,
                        ),
                        detail={"quantity_before": quantity, "quantity_after": after},
                    )
                )
                return findings, False
            findings.append(
                Finding(
                    code="downgrade",
                    target=target,
                    severity="info",
                    sentence=Message(
                        "This lowers the seats from {quantity} to {after} (not committed).",
                        quantity=quantity,
                        after=after,
                    ),
                )
            )
        return findings, True


# -- findings ----------------------------------------------------------------------------------


def _same_iban_finding() -> Finding:
    return Finding(
        code="same_iban_other_customer",
        target=None,
        severity="warning",
        needs_acknowledgement=True,
        sentence=Message(
            "Another customer's request has this same IBAN. Make sure the account really "
            "belongs to this customer (see 'same IBAN elsewhere' in My Queue) before applying."
        ),
    )


def _not_configured(target: str, provider: str) -> Finding:
    return Finding(
        code="provider_not_configured",
        target=target,
        severity="blocking",
        sentence=Message(
            "{provider} is not configured on this gateway, so {target} cannot be checked or "
            "changed here.",
            provider=_provider_word(provider),
            target=target_words(target),
        ),
    )


def _account_not_found(target: str, provider: str) -> Finding:
    return Finding(
        code="account_not_found",
        target=target,
        severity="blocking",
        sentence=Message(
            "{provider} has no account matching the request's references for {target}. Check "
            "the customer's ids on the ticket.",
            provider=_provider_word(provider),
            target=target_words(target),
        ),
    )


def _unreadable(target: str, provider: str, error: BillingError) -> Finding:
    return Finding(
        code="provider_unreadable",
        target=target,
        severity="warning",
        sentence=Message(
            "{provider} could not be read for {target} just now, so it is not checked.",
            provider=_provider_word(provider),
            target=target_words(target),
        ),
        detail={"error_code": error.code.value},
    )


def _collections_not_checked(target: str, provider: str) -> Finding:
    return Finding(
        code="collections_not_checked",
        target=target,
        severity="warning",
        needs_acknowledgement=True,
        sentence=Message(
            "This gateway cannot read {provider}'s debits in flight. Look for a SEPA debit "
            "being collected in its dashboard before applying.",
            provider=_provider_word(provider),
        ),
    )


def _collection_view(
    collection: Collection, method: PaymentMethod | None, today: date
) -> CollectionView:
    on = collection.effective_on
    return CollectionView(
        id_masked=masked_id(collection.id),
        amount_minor=collection.amount.amount_minor,
        currency=collection.amount.currency,
        on=on,
        safe_after=business_days_after(on or today, SEPA_RETURN_BUSINESS_DAYS),
        method_masked=method.masked if method else None,
        status=collection.status,
    )


def _in_flight_finding(
    target: str, provider: str, views: list[CollectionView], nothing_to_do: bool = False
) -> Finding:
    """Blocking, unless the new IBAN is already the default there: then nothing is written
    under the debit, and it is only shown."""
    first = views[0]
    safe = max(view.safe_after for view in views)
    listed = "; ".join(
        f"{format_money(v.amount_minor, v.currency)}"
        + (f" from {v.method_masked}" if v.method_masked else "")
        + f" (payment {v.id_masked}"
        + (f", dated {v.on.isoformat()}" if v.on else "")
        + ")"
        for v in views
    )
    advice = (
        Message("Nothing changes there, so it is not at risk.")
        if nothing_to_do
        else Message(
            "Changing the bank details under it could make it fail. Apply once it has "
            "settled, on {day} at the earliest (the collection date plus {days} business days, "
            "the SEPA window for returns).",
            day=safe.isoformat(),
            days=SEPA_RETURN_BUSINESS_DAYS,
        )
    )
    return Finding(
        code="collection_in_flight",
        target=target,
        severity="info" if nothing_to_do else "blocking",
        sentence=Message(
            "{provider} is collecting a direct debit right now: {listed}. {advice}",
            provider=_provider_word(provider),
            listed=listed,
            advice=advice,
        ),
        detail={
            "collection": msgspec.to_builtins(first),
            "collections": msgspec.to_builtins(views),
            "safe_after": safe.isoformat(),
            "rule": f"collection date + {SEPA_RETURN_BUSINESS_DAYS} TARGET business days",
        },
    )


def _replaced(
    new: NewIban | None, methods: Sequence[PaymentMethod]
) -> tuple[list[PaymentMethod], bool, list[tuple[PaymentMethod, str]]]:
    """The active bank methods Apply closes, whether there is nothing to do (the new IBAN is
    already the default), and the methods that already are the new IBAN's account."""
    active = [m for m in methods if m.active and m.kind in BANK_KINDS]
    same = []
    if new is not None:
        for method in active:
            matched, by = same_account(new, method)
            if matched:
                same.append((method, by))
    nothing_to_do = any(method.is_default for method, _ in same)
    matching_ids = {method.id for method, _ in same}
    replaced = [m for m in active if not (nothing_to_do and m.id in matching_ids)]
    return replaced, nothing_to_do, same


def _method_findings(
    target: str,
    provider: str,
    methods: Sequence[PaymentMethod],
    replaced: list[PaymentMethod],
    same: list[tuple[PaymentMethod, str]],
    nothing_to_do: bool,
) -> list[Finding]:
    findings = []
    where = Message(
        "{provider} ({target})", provider=_provider_word(provider), target=target_words(target)
    )
    if same:
        method, by = same[0]
        if nothing_to_do:
            sentence = Message(
                "The new IBAN is already the default at {where} ({masked}, compared by {by}): "
                "nothing to do there.",
                where=where,
                masked=method.masked,
                by=by,
            )
        else:
            sentence = Message(
                "The new IBAN is already on the account at {where} ({masked}, compared by {by}) "
                "but is not its default: Apply adds it with a fresh mandate and closes the old "
                "methods.",
                where=where,
                masked=method.masked,
                by=by,
            )
        findings.append(
            Finding(
                code="iban_already_on_account",
                target=target,
                severity="info",
                sentence=sentence,
                detail={"masked": method.masked, "compared_by": by, "method_id": method.id},
            )
        )
    others = [m for m in replaced if m.active]
    if others:
        listed = ", ".join(
            Message("{method} (default)", method=m.masked or masked_id(m.id))
            if m.is_default
            else m.masked or masked_id(m.id)
            for m in others
        )
        findings.append(
            Finding(
                code="other_bank_methods",
                target=target,
                severity="info",
                sentence=(
                    Message("Active bank methods at {where}: {listed}.", where=where, listed=listed)
                    if nothing_to_do
                    else Message(
                        "Active bank methods at {where}: {listed}. Apply closes them once the "
                        "new one is the default.",
                        where=where,
                        listed=listed,
                    )
                ),
                detail={"masked": [m.masked for m in others]},
            )
        )
    elif not same:
        findings.append(
            Finding(
                code="other_bank_methods",
                target=target,
                severity="ok",
                sentence=Message("No other active bank method at {where}.", where=where),
                detail={"masked": []},
            )
        )
    return findings


def _preview_finding(target: str, preview: PlanPreview) -> Finding:
    currency = preview.currency
    before = format_money(preview.recurring_before_minor, currency)
    after = format_money(preview.recurring_after_minor, currency)
    return Finding(
        code="plan_preview",
        target=target,
        severity="ok",
        sentence=Message(
            "From {day}: {seats_before} → {seats_after} seats (tier {tier_before} → "
            "{tier_after}); recurring {before} → {after}; next invoice {next_invoice}.",
            day=preview.effective_on.isoformat(),
            seats_before=preview.quantity_before,
            seats_after=preview.quantity_after,
            tier_before=preview.current_tier,
            tier_after=preview.target_tier,
            before=before,
            after=after,
            next_invoice=format_money(preview.next_invoice_minor, currency),
        ),
        detail={"preview_id": preview.id},
    )


async def _partner(adapter: PayoutAccounts, refs: dict[str, Any]) -> ConnectedAccount | None:
    if refs["stripe_connect_account_id"]:
        found = await adapter.find_connected_account(
            AccountLookup(id=refs["stripe_connect_account_id"])
        )
        if found is not None:
            return found
    if refs["backoffice_id"]:
        return await adapter.find_connected_account(
            AccountLookup(backoffice_id=refs["backoffice_id"])
        )
    return None
