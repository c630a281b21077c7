"""The live pre-checks over an in-memory fake of the provider ports: what the specialist is
told, and what Apply refuses."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from adapters.ports import (
    Account,
    AccountLookup,
    Collection,
    ConnectedAccount,
    Contact,
    Money,
    PaymentMethod,
    Payout,
    QuantityChange,
    QuantityChangePreview,
    RecurringCharge,
    Subscription,
    next_bill_cycle_date,
)
from gateway.core.errors import BillingError, ErrorCode
from gateway.fulfilment.checks import CheckedRequest, ChecksService, NewIban, business_days_after
from gateway.fulfilment_schemas import Checks, ContractReturn
from gateway.providers import Providers
from settings import get_settings

TODAY = datetime.now(UTC).date()
OLD = PaymentMethod("pm_old", "sepa_debit", True, True, "DE****3000", bank_code="37040044")
CARD = PaymentMethod("pm_card", "card", True, False, "card ****4242")
NEW = NewIban("FR", "0189", "30006", "AGRIFRPP")


@dataclass
class FakeBilling:
    """One provider's customer, as the ports show it."""

    account: Account = field(
        default_factory=lambda: Account(
            "acc1", "A00000101", "Atelier Lumière SARL", "EUR", 5, "pm_old", "Active"
        )
    )
    methods: list[PaymentMethod] = field(default_factory=lambda: [OLD, CARD])
    in_flight: list[Collection] = field(default_factory=list)
    contact: Contact | None = None
    seats: int = 3
    seat_price: int = 2900
    unreadable: bool = False
    previews: list[QuantityChange] = field(default_factory=list)

    async def find_account(self, lookup: AccountLookup) -> Account | None:
        if self.unreadable:
            raise BillingError(ErrorCode.PROVIDER_UNAVAILABLE, "down")
        known = {self.account.id, self.account.number}
        return self.account if {lookup.id, lookup.number} & known else None

    async def list_payment_methods(self, account_id: str) -> Sequence[PaymentMethod]:
        return self.methods

    async def collections_in_flight(self, account_id: str) -> Sequence[Collection]:
        return self.in_flight

    async def contact_of(self, account_id: str) -> Contact | None:
        return self.contact

    async def active_subscription(self, account_id: str) -> Subscription | None:
        charge = RecurringCharge("C-1", "Seat", self.seats, Money(self.seat_price, "EUR"), "Month")
        return Subscription("A-S00000101", account_id, "Active", 1, (charge,))

    async def preview_quantity_change(self, change: QuantityChange) -> QuantityChangePreview:
        self.previews.append(change)
        before = self.seats * self.seat_price
        after = change.quantity * self.seat_price
        return QuantityChangePreview(
            change.effective_on, Money(after, "EUR"), Money(before, "EUR"), Money(after, "EUR")
        )

    async def apply_quantity_change(self, change: QuantityChange, *, idempotency_key: str) -> Any:
        raise AssertionError("checks never write")

    async def cancel_subscription(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("checks never write")


@dataclass
class FakeConnect:
    partner: ConnectedAccount = field(
        default_factory=lambda: ConnectedAccount(
            "acct_1", "Brasserie du Port SAS", "Le Petit Port", "FR", "eur"
        )
    )
    accounts: list[PaymentMethod] = field(
        default_factory=lambda: [
            PaymentMethod("ba_old", "bank_transfer", True, True, "DE****3000", bank_code="37040044")
        ]
    )
    payouts: list[Payout] = field(default_factory=list)

    async def find_connected_account(self, lookup: AccountLookup) -> ConnectedAccount | None:
        return self.partner if lookup.id == self.partner.id else None

    async def list_payout_accounts(self, account_id: str) -> Sequence[PaymentMethod]:
        return self.accounts

    async def recent_payouts(self, account_id: str) -> Sequence[Payout]:
        return self.payouts

    async def add_payout_account(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("checks never write")

    async def make_default_payout_account(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("checks never write")

    async def remove_payout_account(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("checks never write")

    async def find_account(self, lookup: AccountLookup) -> Account | None:
        return None

    async def list_payment_methods(self, account_id: str) -> Sequence[PaymentMethod]:
        return []


def service(**adapters: Any) -> ChecksService:
    return ChecksService(get_settings(), Providers(adapters), None)  # type: ignore[arg-type]


def iban_request(targets: list[str], **changes: Any) -> CheckedRequest:
    details = {"targets": targets, "account_holder": "Brasserie du Port SAS", "bic": "AGRIFRPP"}
    details.update(changes.pop("details", {}))
    refs: dict[str, str | None] = {
        "zuora_account_id": "A00000101",
        "stripe_customer_id": None,
        "stripe_connect_account_id": "acct_1",
        "backoffice_id": None,
        "company_name": None,
    }
    return CheckedRequest(
        uuid.uuid4(), "iban_change", details, refs, new_iban=NEW, today=TODAY, **changes
    )


def plan_request(**details: Any) -> CheckedRequest:
    filed = {
        "subscription_ref": "A-S00000101",
        "target_tier": {"name": "business"},
        "current_tier": "team",
        "committed": False,
        "contract_signed_on": "2021-06-01",
    }
    filed.update(details)
    refs: dict[str, str | None] = {
        "zuora_account_id": "A00000101",
        "stripe_customer_id": None,
        "stripe_connect_account_id": None,
        "backoffice_id": None,
        "company_name": None,
    }
    return CheckedRequest(uuid.uuid4(), "plan_change", filed, refs, today=TODAY)


def codes(checks: Checks, severity: str | None = None) -> set[str]:
    return {f.code for f in checks.findings if severity is None or f.severity == severity}


def refused(checks: Checks, **options: Any) -> BillingError:
    refusal = checks.refusal(options.pop("acknowledged", frozenset()), **options)
    assert refusal is not None
    return refusal


async def test_a_debit_in_flight_blocks_and_says_when_it_is_safe() -> None:
    debit = Collection("8a8081f2c0ffee01", Money(8700, "EUR"), "Processing", "pm_old", TODAY)
    zuora = FakeBilling(in_flight=[debit])
    checks = await service(zuora=zuora).compute(iban_request(["zuora_collection"]), "claim")

    [state] = checks.targets
    [view] = state.collections_in_flight
    assert view.safe_after == business_days_after(TODAY, 5) and view.safe_after.weekday() < 5
    assert (view.id_masked, view.method_masked) == ("…ffee01", "DE****3000")
    refusal = refused(checks)
    assert refusal.code is ErrorCode.COLLECTION_IN_FLIGHT and refusal.status == 409
    assert refusal.extra["safe_after"] == view.safe_after.isoformat()
    assert refusal.extra["collection"]["amount_minor"] == 8700
    assert "87.00 EUR from DE****3000" in refusal.detail
    assert view.safe_after.isoformat() in refusal.detail
    # The old SEPA method is what Apply closes; the card is not a bank method.
    assert state.replaced_method_ids == ["pm_old"] and not state.nothing_to_do


def test_safe_after_skips_weekends() -> None:
    friday = date(2026, 12, 4)
    assert business_days_after(friday, 5) == date(2026, 12, 11)


async def test_the_new_iban_already_the_default_is_nothing_to_do() -> None:
    already = PaymentMethod("pm_new", "sepa_debit", True, True, "FR****0189", bank_code="30006")
    zuora = FakeBilling(methods=[already, replace(OLD, is_default=False)])
    checks = await service(zuora=zuora).compute(iban_request(["zuora_collection"]), "claim")

    [state] = checks.targets
    assert state.nothing_to_do and state.replaced_method_ids == []
    assert "iban_already_on_account" in codes(checks, "info")
    # Same last four digits at another bank is another account.
    elsewhere = replace(already, bank_code="99999")
    zuora.methods = [elsewhere]
    again = await service(zuora=zuora).compute(iban_request(["zuora_collection"]), "claim")
    assert not again.targets[0].nothing_to_do
    assert again.targets[0].replaced_method_ids == ["pm_new"]


async def test_a_connect_holder_must_be_the_legal_name_and_payouts_are_listed() -> None:
    connect = FakeConnect(
        payouts=[
            Payout("po_1234567890", Money(125000, "EUR"), "in_transit", "ba_old", None),
            Payout("po_paid", Money(9000, "EUR"), "paid", "ba_old", None),
        ]
    )
    request = iban_request(["stripe_connect_payout"], details={"account_holder": "Le Petit Port"})
    checks = await service(stripe=connect).compute(request, "claim")

    refusal = refused(checks)
    assert refusal.code is ErrorCode.HOLDER_NOT_LEGAL_NAME
    assert "Brasserie du Port SAS" in refusal.detail and "trading name" in refusal.detail
    [state] = checks.targets
    assert [p.id_masked for p in state.payouts_in_transit] == ["…567890"]
    assert (
        "1250.00 EUR" in next(f for f in checks.findings if f.code == "payouts_in_transit").sentence
    )
    # Accents, case and punctuation aside, the legal name passes.
    good = iban_request(
        ["stripe_connect_payout"], details={"account_holder": "BRASSERIE DU PORT S.A.S."}
    )
    assert "holder_not_legal_name" not in codes(
        await service(stripe=connect).compute(good, "claim")
    )


async def test_identity_differences_need_a_reason_and_warnings_an_acknowledgement() -> None:
    contact = Contact("Billing Atelier", "billing@a00000101.example", None)
    zuora = FakeBilling(contact=contact)
    identity = {"name": "Atelier Lumière SARL", "email": "someone@else.example"}
    request = iban_request(
        ["zuora_collection"], details={"identity": identity}, another_customer_has_iban=True
    )
    checks = await service(zuora=zuora).compute(request, "claim")

    facts = {fact.fact: fact.state for fact in checks.identity}
    assert facts == {"name": "matched", "email": "different", "postal_address": "not_checked"}
    assert refused(checks).code is ErrorCode.IDENTITY_MISMATCH
    warned = refused(checks, identity_override_reason="called back on the number on file")
    assert warned.code is ErrorCode.ACKNOWLEDGEMENT_REQUIRED
    assert warned.extra["codes"] == ["same_iban_other_customer"]
    assert (
        checks.refusal(
            frozenset({"same_iban_other_customer"}),
            identity_override_reason="called back on the number on file",
        )
        is None
    )


async def test_a_partner_without_documents_checked_needs_an_acknowledgement() -> None:
    request = iban_request(
        ["stripe_connect_payout"], details={"identity": {"name": "Brasserie du Port SAS"}}
    )
    checks = await service(stripe=FakeConnect()).compute(request, "claim")
    assert refused(checks).extra["codes"] == ["identity_id_document", "identity_proof_of_address"]


async def test_an_unreadable_provider_is_a_warning_and_apply_answers_503() -> None:
    checks = await service(zuora=FakeBilling(unreadable=True)).compute(
        iban_request(["zuora_collection"]), "claim"
    )
    assert codes(checks, "warning") >= {"provider_unreadable"}
    refusal = refused(checks)
    assert refusal.status == 503 and "Retry-After" in refusal.headers


async def test_plan_change_reads_the_tier_from_the_provider_and_binds_the_preview() -> None:
    zuora = FakeBilling(seats=3)
    checks = await service(zuora=zuora).compute(plan_request(), "claim")

    preview = checks.preview
    assert preview is not None and checks.refusal(frozenset()) is None
    assert (preview.current_tier, preview.target_tier) == ("team", "business")
    assert (preview.quantity_before, preview.quantity_after) == (3, 10)
    assert preview.effective_on == next_bill_cycle_date(5, TODAY)
    assert zuora.previews[0].quantity == 10 and zuora.previews[0].proration == "none"
    assert (preview.recurring_before_minor, preview.recurring_after_minor) == (8700, 29000)
    again = await service(zuora=zuora).compute(plan_request(), "apply")
    assert again.preview is not None and again.preview.id == preview.id
    zuora.seat_price = 3100  # the provider's price changed: another preview, another id
    changed = await service(zuora=zuora).compute(plan_request(), "apply")
    assert changed.preview is not None and changed.preview.id != preview.id


async def test_a_filed_tier_the_provider_does_not_show_is_refused() -> None:
    checks = await service(zuora=FakeBilling(seats=7)).compute(plan_request(), "claim")
    refusal = refused(checks)
    assert refusal.code is ErrorCode.CURRENT_TIER_MISMATCH
    assert "7 seats (tier business)" in refusal.detail


async def test_a_committed_downgrade_is_refused_on_the_providers_real_state() -> None:
    # Filed as an upgrade from "team", but the provider shows 30 seats (enterprise).
    request = plan_request(current_tier=None, committed=True)
    checks = await service(zuora=FakeBilling(seats=30)).compute(request, "claim")
    assert refused(checks).code is ErrorCode.DOWNGRADE_NOT_ALLOWED
    assert checks.preview is None


async def test_an_old_contract_blocks_until_its_return_is_recorded() -> None:
    request = plan_request(contract_signed_on="2018-03-01")
    checks = await service(zuora=FakeBilling()).compute(request, "claim")
    refusal = refused(checks)
    assert refusal.code is ErrorCode.NEEDS_NEW_CONTRACT and "2019-04-01" in refusal.detail

    back = ContractReturn(
        recorded_by_id=1,
        recorded_by="sam",
        recorded_at=datetime.now(UTC),
        received_on=TODAY,
        how="signed PDF by email",
    )
    returned = await service(zuora=FakeBilling()).compute(
        replace(request, contract_return=back), "manual"
    )
    assert returned.refusal(frozenset()) is None
    assert "needs_new_contract" in codes(returned, "ok")


async def test_a_missing_provider_is_named() -> None:
    checks = await service().compute(iban_request(["zuora_collection"]), "claim")
    assert refused(checks).code is ErrorCode.PROVIDER_NOT_CONFIGURED


@pytest.mark.parametrize("moment", ["intake", "claim", "apply", "manual"])
async def test_checks_round_trip_as_stored(moment: str) -> None:
    import msgspec

    checks = await service(zuora=FakeBilling()).compute(plan_request(), moment)
    assert msgspec.json.decode(msgspec.json.encode(checks), type=Checks) == checks


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (
            PaymentMethod("a", "sepa_debit", True, False, "FR****0189", bank_code="30006"),
            (True, "bank code"),
        ),
        (
            PaymentMethod("b", "sepa_debit", True, False, "FR****0189", bank_code="20041"),
            (False, "bank code"),
        ),
        (
            PaymentMethod("c", "bank_transfer", True, False, "FR****0189", bic="AGRIFRPPXXX"),
            (True, "BIC"),
        ),
        (
            PaymentMethod("d", "bank_transfer", True, False, "FR****0189", bic="PSSTFRPP"),
            (False, "BIC"),
        ),
        (
            PaymentMethod("e", "bank_transfer", True, False, "FR****0189"),
            (True, "country and last four digits only"),
        ),
        (
            PaymentMethod("f", "sepa_debit", True, False, "DE****0189"),
            (False, "country and last four digits"),
        ),
    ],
)
def test_the_new_iban_is_recognised_by_what_the_provider_shows(
    method: PaymentMethod, expected: tuple[bool, str]
) -> None:
    from gateway.fulfilment.checks import same_account

    assert same_account(NEW, method) == expected


def test_a_proof_of_address_is_recent_by_calendar_months() -> None:
    from gateway.change_requests.service import _months_before

    assert _months_before(date(2026, 5, 31), 3) == date(2026, 2, 28)
    assert _months_before(date(2026, 1, 15), 3) == date(2025, 10, 15)
