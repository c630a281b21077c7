"""The Stripe adapter on Stripe's current API (`2026-10-28.endive`), and the emulator that says
no as Stripe does: no `payment_method_types` on intents, the holder's address for IBANs of SEPA
countries outside the EEA, the demo's subscriptions and debit in flight, faults per operation,
a rate limit, its state kept in a file, and the request id of each write. All over loopback
HTTP through stripe-python."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import httpx
import pytest
import stripe

from adapters.ports import (
    AccountLookup,
    Money,
    NewBankAccount,
    NewSepaMethod,
    PostalAddress,
    QuantityChange,
)
from adapters.stripe.adapter import StripeAdapter
from adapters.stripe.client import API_VERSION, StripeConfig
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.face import LoggedRequest, StripeFace
from adapters.stripe.emulator.forms import parameter_names
from adapters.stripe.emulator.seed import seed_demo
from adapters.stripe.emulator.state import API_KEY, Faults, StripeAccount
from gateway.core.errors import BillingError, ErrorCode
from settings.model import DEFAULT_PLAN_TIERS
from tests.emulators import serve
from tests.stripe_openapi import unknown_parameters
from tests.stripe_versions import PINNED_VERSION, removed_in_pinned_version

ATELIER, BRASSERIE, PARTNER = "cus_DemoAtelier01", "cus_DemoBrasserie2", "acct_DemoBrasserie"
IBAN = "FR7630006000011234567890189"
GB_IBAN = "GB82WEST12345698765432"  # a SEPA country outside the EEA
HOLDER_ADDRESS = PostalAddress(
    line1="1 Market Street", city="London", postal_code="EC1A 1BB", country="GB"
)


class Emulator:
    def __init__(self, base: str, face: StripeFace) -> None:
        self.base, self.face, self.account = base, face, face.account

    def control(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        return httpx.request(method, f"{self.base}{path}", timeout=5, **kwargs)  # type: ignore[arg-type]

    def raw(self, method: str, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        """A request as any Stripe client sends it (form-encoded, the emulator's key)."""
        return httpx.request(
            method,
            f"{self.base}{path}",
            data=data,
            headers={"Authorization": f"Bearer {API_KEY}", "Stripe-Version": API_VERSION},
            timeout=5,
        )


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    app = create_stripe_emulator(StripeAccount(), seed=seed_demo)
    with serve(app) as base:
        yield Emulator(base, app.state.face)


@pytest.fixture
async def adapter(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StripeAdapter]:
    monkeypatch.setattr(stripe._http_client.HTTPClient, "INITIAL_DELAY", 0.01)
    emulator.account.faults = Faults()
    config = StripeConfig(API_KEY, emulator.base, timeout_seconds=0.5, max_network_retries=3)
    adapter = StripeAdapter(config)
    yield adapter
    await adapter.close()


def new_customer(emulator: Emulator, shop: str) -> tuple[str, str]:
    """A customer paying by an older SEPA method (its invoice default): id and method id."""
    customers = emulator.face.customers
    created = customers.create_customer({"email": f"{shop}@example.com", "name": f"Shop {shop}"})
    old = customers.create_payment_method(
        {
            "type": "sepa_debit",
            "sepa_debit": {"iban": "DE89370400440532013000"},
            "billing_details": {"name": f"Shop {shop}", "email": f"{shop}@example.com"},
        }
    )
    customers.attach(old["id"], created["id"])
    customers.update_customer(
        created["id"], {"invoice_settings": {"default_payment_method": old["id"]}}
    )
    return created["id"], old["id"]


def sepa(iban: str = IBAN, address: PostalAddress | None = None) -> NewSepaMethod:
    return NewSepaMethod(
        iban=iban,
        holder="Atelier Lumière SARL",
        email="compta@atelier.example",
        mandate_id="MANDATE-1",
        mandate_signed_on=date(2026, 11, 23),
        holder_address=address,
    )


def writes_of(emulator: Emulator, since: int) -> list[LoggedRequest]:
    return [r for r in list(emulator.face.requests)[since:] if r.method in ("POST", "DELETE")]


# -- the pinned version ------------------------------------------------------------------------


async def test_no_request_sends_what_the_pinned_version_removed(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    """Every call the adapter makes, each checked against the removed parameters of
    2026-10-28.endive and against Stripe's description of the call, sent with that version."""
    emulator.face.requests.clear()
    customer_id, old = new_customer(emulator, "endive-1")
    await adapter.find_account(AccountLookup(email="endive-1@example.com"))
    created = await adapter.create_sepa_payment_method(customer_id, sepa(), idempotency_key="e-1")
    await adapter.set_default_payment_method(customer_id, created.id, idempotency_key="e-1d")
    await adapter.close_payment_method(old, idempotency_key="e-1c")
    await adapter.list_payment_methods(customer_id)
    await adapter.collections_in_flight(BRASSERIE)
    subscription = await adapter.active_subscription(ATELIER)
    assert subscription is not None
    change = QuantityChange(subscription.id, subscription.charges[0].id, 4, date.today())
    preview = await adapter.preview_quantity_change(change)
    await adapter.apply_quantity_change(
        replace(change, proration_date=preview.proration_date), idempotency_key="e-1q"
    )
    await adapter.find_connected_account(AccountLookup(id=PARTNER))
    await adapter.list_payout_accounts(PARTNER)
    payouts = await adapter.recent_payouts(PARTNER)
    await adapter.current_object("payout", payouts[0].id, account=PARTNER)
    await adapter.current_object("payment_method", created.id)
    seen = list(emulator.face.requests)
    assert len(seen) >= 15
    for request in seen:
        operation = emulator.face.operation_of(request.method, request.path)
        assert request.stripe_version == PINNED_VERSION == API_VERSION, request
        assert not removed_in_pinned_version(operation, request.params), request
        names = parameter_names(request.params)
        assert not unknown_parameters(request.method, request.path, names), request


def test_the_removed_parameter_check_catches_payment_method_types(emulator: Emulator) -> None:
    """The check above can fail: a SetupIntent sent as before 2026-09-30 is caught by it, and
    the emulator refuses it as Stripe does."""
    before = len(emulator.face.requests)
    answer = emulator.raw(
        "POST",
        "/v1/setup_intents",
        {"customer": ATELIER, "payment_method_types[0]": "sepa_debit"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "payment_method_types"
    [sent] = list(emulator.face.requests)[before:]
    operation = emulator.face.operation_of(sent.method, sent.path)
    assert removed_in_pinned_version(operation, sent.params) == ["payment_method_types"]
    intent = emulator.raw(
        "POST",
        "/v1/payment_intents",
        {"customer": ATELIER, "amount": "100", "currency": "eur", "payment_method_types[]": "x"},
    )
    assert intent.status_code == 400 and intent.json()["error"]["code"] == "parameter_unknown"


async def test_a_non_eea_sepa_iban_needs_the_holders_address(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, _old = new_customer(emulator, "gb-1")
    with pytest.raises(BillingError) as refused:
        await adapter.create_sepa_payment_method(customer_id, sepa(GB_IBAN), idempotency_key="g1")
    assert refused.value.code is ErrorCode.PROVIDER_REJECTED
    assert refused.value.extra["provider_code"] == "parameter_missing"
    created = await adapter.create_sepa_payment_method(
        customer_id, sepa(GB_IBAN, HOLDER_ADDRESS), idempotency_key="g2"
    )
    assert created.masked == "GB****5432"
    stored = emulator.account.get("payment_method", created.id)["billing_details"]["address"]
    assert stored == {
        "line1": "1 Market Street",
        "city": "London",
        "postal_code": "EC1A 1BB",
        "country": "GB",
    }


# -- the demo ----------------------------------------------------------------------------------


def tier_of(quantity: int) -> str:
    return next(t.name for t in DEFAULT_PLAN_TIERS if t.min_seats <= quantity <= t.max_seats)


async def test_demo_customers_have_seats_on_a_tier_and_brasserie_a_debit_in_flight() -> None:
    app = create_stripe_emulator(StripeAccount(), seed=seed_demo)
    with serve(app) as base:
        adapter = StripeAdapter(StripeConfig(API_KEY, base))
        try:
            atelier = await adapter.active_subscription(ATELIER)
            brasserie = await adapter.active_subscription(BRASSERIE)
            assert atelier is not None and brasserie is not None
            assert tier_of(atelier.charges[0].quantity) == "team"
            assert tier_of(brasserie.charges[0].quantity) == "solo"  # the demo upsell's start
            assert await adapter.collections_in_flight(ATELIER) == []
            [debit] = await adapter.collections_in_flight(BRASSERIE)
            assert debit.status == "processing" and debit.amount == Money(2900, "EUR")
            # the demo upsell, solo to team (its max seats), can be tried at "Stripe"
            team = next(t for t in DEFAULT_PLAN_TIERS if t.name == "team")
            charge = brasserie.charges[0]
            change = QuantityChange(brasserie.id, charge.id, team.max_seats, date.today())
            preview = await adapter.preview_quantity_change(change)
            assert preview.recurring_after == Money(team.max_seats * 2900, "EUR")
            applied = await adapter.apply_quantity_change(
                replace(change, proration_date=preview.proration_date), idempotency_key="demo"
            )
            assert applied.charges[0].quantity == team.max_seats
        finally:
            await adapter.close()


async def test_a_debit_in_flight_is_started_and_settled_by_the_control_endpoint(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, _old = new_customer(emulator, "debit-1")
    started = emulator.control(
        "POST",
        "/_emulator/debit-in-flight",
        json={"account": customer_id, "amount_minor": 4900, "currency": "EUR"},
    )
    assert started.status_code == 201 and started.json()["status"] == "processing"
    [debit] = await adapter.collections_in_flight(customer_id)
    assert debit.id == started.json()["id"] and debit.amount == Money(4900, "EUR")
    missing = emulator.control("POST", "/_emulator/debit-in-flight", json={"account": "cus_no"})
    assert missing.status_code == 404
    settled = emulator.control("DELETE", f"/_emulator/debit-in-flight?account={customer_id}")
    assert settled.json() == {"settled": [debit.id]}
    assert await adapter.collections_in_flight(customer_id) == []
    assert emulator.account.get("payment_intent", debit.id)["status"] == "succeeded"


# -- faults per operation ----------------------------------------------------------------------


def fault(emulator: Emulator, operation: str, mode: str, **extra: object) -> None:
    answer = emulator.control(
        "POST", "/_emulator/operation-faults", json={"operation": operation, "mode": mode, **extra}
    )
    assert answer.status_code == 204, answer.text


async def test_a_failing_operation_changes_nothing_then_passes(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, old = new_customer(emulator, "fault-1")
    fault(emulator, "POST /v1/payment_methods/*/detach", "fail", code="resource_missing")
    with pytest.raises(BillingError) as failed:
        await adapter.close_payment_method(old, idempotency_key="f-1")
    assert failed.value.code is ErrorCode.PROVIDER_NOT_FOUND
    assert emulator.account.get("payment_method", old)["customer"] == customer_id
    await adapter.close_payment_method(old, idempotency_key="f-1")  # the fault fired once
    assert emulator.account.get("payment_method", old)["customer"] is None


async def test_a_server_error_on_one_operation_is_retried_by_the_client(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, _old = new_customer(emulator, "fault-2")
    fault(emulator, "POST /v1/setup_intents", "fail", status=500, times=2)
    created = await adapter.create_sepa_payment_method(customer_id, sepa(), idempotency_key="f2")
    assert emulator.account.get("payment_method", created.id)["customer"] == customer_id


@pytest.mark.parametrize("mode", ["slow", "lost_after_commit"])
async def test_an_answer_slower_than_the_client_or_lost_makes_one_object(
    adapter: StripeAdapter, emulator: Emulator, mode: str
) -> None:
    account_id = f"acct_faults{mode.replace('_', '')}"
    emulator.face.connect.create_account("Brasserie du Port SAS", "Le Petit Port", {}, account_id)
    fault(emulator, "POST /v1/accounts/*/external_accounts", mode, seconds=0.8)
    bank = NewBankAccount(iban=IBAN, holder="Brasserie du Port SAS", currency="EUR")
    added = await adapter.add_payout_account(account_id, bank, idempotency_key=f"f3-{mode}")
    await asyncio.sleep(0.9)  # the first attempt, when slow, has answered by now
    banks = emulator.face.connect.list_banks(account_id)
    assert [b["id"] for b in banks] == [added.id]
    assert emulator.control("GET", "/_emulator/operation-faults").json() == {}


def test_operation_faults_are_named_and_cleared(emulator: Emulator) -> None:
    unknown = emulator.control(
        "POST", "/_emulator/operation-faults", json={"operation": "POST /v1/nope", "mode": "fail"}
    )
    assert unknown.status_code == 400 and "POST /v1/customers/*" in unknown.text
    bad_mode = emulator.control(
        "POST",
        "/_emulator/operation-faults",
        json={"operation": "POST /v1/customers/*", "mode": "explode"},
    )
    assert bad_mode.status_code == 400
    fault(emulator, "POST /v1/customers/*", "fail", times=3)
    listed = emulator.control("GET", "/_emulator/operation-faults").json()
    assert listed["POST /v1/customers/*"]["times"] == 3
    assert emulator.control("DELETE", "/_emulator/operation-faults").status_code == 204
    assert emulator.control("GET", "/_emulator/operation-faults").json() == {}
    names = {
        emulator.face.operation_of("POST", "/v1/payment_methods/pm_123456/detach"),
        emulator.face.operation_of("DELETE", "/v1/accounts/acct_123456/external_accounts/ba_1x"),
        emulator.face.operation_of("POST", "/v1/invoices/create_preview"),
    }
    assert names == {
        "POST /v1/payment_methods/*/detach",
        "DELETE /v1/accounts/*/external_accounts/*",
        "POST /v1/invoices/create_preview",
    }


async def test_the_rate_limit_answers_429_rate_limit_and_the_adapter_waits(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    emulator.account.faults.rate_limit_per_second = 5
    async with httpx.AsyncClient(base_url=emulator.base, timeout=5) as client:
        answers = await asyncio.gather(
            *(
                client.get(
                    f"/v1/customers/{ATELIER}", headers={"Authorization": f"Bearer {API_KEY}"}
                )
                for _ in range(12)
            )
        )
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == 5 and statuses.count(429) == 7
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 429} == {"rate_limit"}
    found = await adapter.find_account(AccountLookup(id=ATELIER))  # within the retries
    assert found is not None
    emulator.account.faults.rate_limit_per_second = 0


# -- Stripe's refusals ---------------------------------------------------------------------------


async def test_the_emulator_refuses_what_stripe_refuses(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, old = new_customer(emulator, "refuse-1")
    unknown = emulator.raw("POST", "/v1/payment_methods/pm_doesnotexist/detach")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "resource_missing"
    await adapter.close_payment_method(old, idempotency_key="r-1")
    with pytest.raises(BillingError) as detached:
        await adapter.set_default_payment_method(customer_id, old, idempotency_key="r-2")
    assert detached.value.code is ErrorCode.PROVIDER_NOT_FOUND
    again = emulator.raw("POST", f"/v1/payment_methods/{old}/detach")
    assert again.json()["error"]["code"] == "payment_method_unexpected_state"
    # Connect: the default for its currency goes only after another became the default
    account_id = "acct_refusals"
    connect = emulator.face.connect
    connect.create_account("Brasserie du Port SAS", "Le Petit Port", {}, account_id)
    usd = {"object": "bank_account", "currency": "usd", "account_holder_name": "B"}
    first = connect.add_bank(account_id, {"external_account": {**usd, "account_number": IBAN}})
    connect.add_bank(
        account_id, {"external_account": {**usd, "account_number": "DE89370400440532013000"}}
    )
    path = f"/v1/accounts/{account_id}/external_accounts/{first['id']}"
    assert emulator.raw("DELETE", path).status_code == 400
    assert emulator.raw("POST", path, {"default_for_currency": "false"}).status_code == 400


async def test_a_payout_is_read_by_id_as_its_connected_account(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    [payout] = await adapter.recent_payouts(PARTNER)
    found = await adapter.current_object("payout", payout.id, account=PARTNER)
    assert found is not None and found["id"] == payout.id and found["amount"] == 184_250
    with pytest.raises(BillingError) as elsewhere:
        await adapter.current_object("payout", payout.id, account="acct_someoneelse")
    assert elsewhere.value.code is ErrorCode.PROVIDER_NOT_FOUND


# -- request ids and the exact proration ----------------------------------------------------------


async def test_each_write_names_the_stripe_request_that_made_it(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, old = new_customer(emulator, "reqid-1")
    since = len(emulator.face.requests)
    created = await adapter.create_sepa_payment_method(customer_id, sepa(), idempotency_key="k1")
    await adapter.set_default_payment_method(customer_id, created.id, idempotency_key="k2")
    await adapter.close_payment_method(old, idempotency_key="k3")
    setup, default, detach = writes_of(emulator, since)
    for key, logged in (("k1", setup), ("k2", default), ("k3", detach)):
        call = adapter.last_write(key)
        assert call is not None and call.write
        assert call.provider_request_id == logged.request_id
        assert (call.method, call.path) == (logged.method, logged.path)
    # a repeat finds the work done (a read): the write that did it stays the one named
    await adapter.close_payment_method(old, idempotency_key="k3")
    assert adapter.last_write("k3").provider_request_id == detach.request_id  # type: ignore[union-attr]
    assert adapter.last_write("never-used") is None


async def test_the_seat_change_applies_exactly_the_previewed_proration(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, _old = new_customer(emulator, "prorate-1")
    billing = emulator.face.billing
    price = billing.create_price("Seat", 2900, "eur")
    subscription = billing.create_subscription(customer_id, price["id"], 2)
    item = subscription["items"]["data"][0]
    change = QuantityChange(
        subscription["id"], item["id"], 4, date.today(), proration="always_invoice"
    )
    preview = await adapter.preview_quantity_change(change)
    assert preview.proration == "always_invoice" and preview.proration_date is not None
    since = len(emulator.face.requests)
    previewed = replace(change, proration_date=preview.proration_date)
    await adapter.apply_quantity_change(previewed, idempotency_key="prorate-1")
    [update] = writes_of(emulator, since)
    assert update.path == f"/v1/subscription_items/{item['id']}"
    assert update.params["proration_behavior"] == "always_invoice"
    assert int(update.params["proration_date"]) == preview.proration_date
    stale = replace(change, proration_date=item["current_period_start"] - 1)
    with pytest.raises(BillingError) as moved_on:
        await adapter.apply_quantity_change(stale, idempotency_key="prorate-2")
    assert moved_on.value.code is ErrorCode.PREVIEW_CHANGED


# -- the sandbox's state file ----------------------------------------------------------------------


async def test_the_sandbox_emulator_keeps_its_account_across_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "emulators" / "stripe.json"
    first = create_stripe_emulator(StripeAccount(), state_file=state, seed=seed_demo)
    with serve(first) as base:
        adapter = StripeAdapter(StripeConfig(API_KEY, base))
        try:
            created = await adapter.create_sepa_payment_method(
                ATELIER, sepa(), idempotency_key="persist-1"
            )
            await adapter.set_default_payment_method(ATELIER, created.id, idempotency_key="p-2")
        finally:
            await adapter.close()
    assert json.loads(state.read_text())["format"] == 1
    assert IBAN not in state.read_text()  # no full IBAN on disk
    assert [path.name for path in state.parent.iterdir()] == ["stripe.json"]  # no temp file left
    seeded: list[str] = []
    second = create_stripe_emulator(
        StripeAccount(), state_file=state, seed=lambda account: seeded.append("again")
    )
    assert seeded == []  # loaded, not seeded again
    with serve(second) as base:
        adapter = StripeAdapter(StripeConfig(API_KEY, base))
        try:
            account = await adapter.find_account(AccountLookup(id=ATELIER))
            assert account is not None and account.default_payment_method_id == created.id
            again = await adapter.create_sepa_payment_method(
                ATELIER, sepa(), idempotency_key="persist-1"
            )
            assert again.id == created.id  # the idempotent answer survived the restart
            [method] = [m for m in await adapter.list_payment_methods(ATELIER) if m.is_default]
            assert method.fingerprint == created.fingerprint
        finally:
            await adapter.close()
        # A seat change after the restart shows on its subscription, as before it.
        headers = {"Authorization": f"Bearer {API_KEY}"}
        async with httpx.AsyncClient(base_url=base, headers=headers) as client:
            changed = await client.post(
                "/v1/subscription_items/si_DemoAtelier01",
                data={"quantity": "5", "proration_behavior": "none"},
            )
            assert changed.status_code == 200, changed.text
            subscription = (await client.get("/v1/subscriptions/sub_DemoAtelier01")).json()
        assert [item["quantity"] for item in subscription["items"]["data"]] == [5]


async def test_the_contact_stripe_holds_for_a_customer_and_a_partner(
    adapter: StripeAdapter,
) -> None:
    customer = await adapter.contact_of(ATELIER)
    assert customer is not None and customer.name == "Atelier Lumière SARL"
    assert customer.email == "billing@shop-101.example"
    assert customer.address == PostalAddress(
        line1="12 rue des Arts", city="Paris", postal_code="75003", country="FR"
    )
    partner = await adapter.contact_of(PARTNER)
    assert partner is not None and partner.name == "Brasserie du Port SAS"
    assert partner.address is not None and partner.address.city == "Marseille"
    assert await adapter.contact_of("cus_nobody") is None
