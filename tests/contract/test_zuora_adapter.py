"""ZuoraAdapter against the emulator over loopback HTTP, through each transport (SOAP with the
project's WSDL, SOAP with Zuora's published WSDL, REST): the IBAN change and the tier change a
careful specialist makes, repeated safely, through every fault switch."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from decimal import Decimal

import pytest

from adapters.ports import (
    Account,
    AccountLookup,
    Capability,
    Money,
    NewSepaMethod,
    PostalAddress,
    QuantityChange,
    capabilities_of,
    next_bill_cycle_date,
)
from adapters.zuora.adapter import ZuoraAdapter
from adapters.zuora.calls import track_prefix
from adapters.zuora.emulator.app import SOAP_PATH, create_emulator
from adapters.zuora.emulator.debits import start_debit
from adapters.zuora.emulator.pricing import TIERED, add_tiers
from adapters.zuora.emulator.rest import RestFace
from adapters.zuora.emulator.seed import (
    DEMO_CUSTOMERS,
    Customer,
    add_customer,
    seat_tiers_of,
    seed_demo,
)
from adapters.zuora.emulator.soap import SoapFace
from adapters.zuora.emulator.state import Faults, Tenant
from adapters.zuora.rest_session import RestConfig, ZuoraRest
from adapters.zuora.rest_transport import RestTransport
from adapters.zuora.soap_session import DEFAULT_WSDL, SoapConfig, ZuoraSoap
from adapters.zuora.soap_transport import SoapTransport
from gateway.core.errors import BillingError, ErrorCode
from settings.model import DEFAULT_PLAN_TIERS
from tests.emulators import serve
from tests.reference_files import ZUORA_WSDL, require

IBAN = "FR7630006000011234567890189"
OLD_IBAN = "DE89370400440532013000"


class Emulator:
    def __init__(self, base: str, tenant: Tenant, rest: RestFace, soap: SoapFace) -> None:
        self.base, self.tenant, self.rest, self.soap = base, tenant, rest, soap


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    tenant = Tenant()
    app = create_emulator(tenant)
    with serve(app) as base:
        yield Emulator(base, tenant, app.state.rest, app.state.soap)


@pytest.fixture(params=["soap, own WSDL", "soap, Zuora's WSDL", "rest"])
async def zuora(request: pytest.FixtureRequest, emulator: Emulator) -> AsyncIterator[ZuoraAdapter]:
    tenant = emulator.tenant
    tenant.faults = Faults()
    patience = {"timeout_seconds": 0.5, "max_backoff_seconds": 0.05}
    transport: SoapTransport | RestTransport
    if request.param == "rest":
        transport = RestTransport(
            ZuoraRest(RestConfig(emulator.base, tenant.client_id, tenant.client_secret, **patience))
        )
    else:
        wsdl = DEFAULT_WSDL if request.param == "soap, own WSDL" else require(ZUORA_WSDL)
        config = SoapConfig(
            f"{emulator.base}{SOAP_PATH}", tenant.username, tenant.password, wsdl, **patience
        )
        transport = SoapTransport(ZuoraSoap(config))
    adapter = ZuoraAdapter(transport)
    yield adapter
    await adapter.close()


def customer(tenant: Tenant, seats: int = 10) -> Customer:
    """An account paying by an older SEPA method (its default), with a monthly subscription."""
    number = f"A{len(tenant.objects['Account']) + 1:08d}"
    return add_customer(
        tenant, account_number=number, name="Atelier Lumière SARL", iban=OLD_IBAN, seats=seats
    )


def new_method(mandate: str) -> NewSepaMethod:
    return NewSepaMethod(
        iban=IBAN,
        holder="Atelier Lumière SARL",
        email="compta@atelier.example",
        mandate_id=mandate,
        mandate_signed_on=date(2026, 11, 23),
        bic="AGRIFRPPXXX",
    )


def methods_of(tenant: Tenant, account: str) -> list[dict[str, object]]:
    return [m for m in tenant.objects["PaymentMethod"].values() if m["AccountId"] == account]


async def iban_change(zuora: ZuoraAdapter, c: Customer, mandate: str) -> str:
    created = await zuora.create_sepa_payment_method(
        c.account_id, new_method(mandate), idempotency_key=f"{mandate}:zuora:create-pm"
    )
    await zuora.set_default_payment_method(
        c.account_id, created.id, idempotency_key=f"{mandate}:default"
    )
    await zuora.close_payment_method(c.payment_method_id, idempotency_key=f"{mandate}:close-old")
    return created.id


def tier_change(c: Customer, quantity: int) -> QuantityChange:
    day = next_bill_cycle_date(5, date.today())
    return QuantityChange(c.subscription_number, c.charge_number, quantity, day)


# -- the IBAN change ----------------------------------------------------------------------------


async def test_the_full_iban_change(zuora: ZuoraAdapter, emulator: Emulator) -> None:
    c = customer(emulator.tenant)
    new_id = await iban_change(zuora, c, "BG-1")
    methods = {method.id: method for method in await zuora.list_payment_methods(c.account_id)}
    assert methods[new_id].is_default and methods[new_id].active
    assert methods[new_id].kind == "sepa_debit" and methods[new_id].masked == "FR****0189"
    assert methods[new_id].mandate_id == "BG-1" and methods[new_id].holder
    old = methods[c.payment_method_id]
    assert not old.active and not old.is_default
    assert IBAN not in repr(methods) and OLD_IBAN not in repr(methods)
    found = await zuora.find_account(AccountLookup(number=c.account_number))
    assert found is not None and found.default_payment_method_id == new_id
    email = f"billing@{c.account_number.lower()}.example"
    by_email = await zuora.find_account(AccountLookup(email=email))
    assert by_email is not None and by_email.id == c.account_id
    assert await zuora.find_account(AccountLookup(email="nobody@example.com")) is None
    assert capabilities_of(zuora) == set(Capability) - {
        "invoice_links",
        "payout_accounts",
        "blocklist_mirror",
        "receipts",  # Zuora renders none
    }


async def test_the_bill_to_contact_is_read_for_the_identity_check(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    tenant = emulator.tenant
    c = add_customer(
        tenant,
        account_number=f"A{len(tenant.objects['Account']) + 1:08d}",
        name="Atelier Lumière SARL",
        iban=OLD_IBAN,
        address=("12 rue des Ateliers", "Paris", "75011", "FR"),
    )
    contact = await zuora.contact_of(c.account_id)
    assert contact is not None
    assert contact.name == "Billing Atelier Lumière SARL"
    assert contact.email == f"billing@{c.account_number.lower()}.example"
    # every field, through every WSDL (zeep drops the fields after one its WSDL lacks)
    assert contact.address == PostalAddress("12 rue des Ateliers", "Paris", "75011", "FR")
    assert await zuora.contact_of("2c92c0f8000000000000000000000000") is None


async def test_repeating_every_step_changes_nothing_more(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    c = customer(emulator.tenant)
    first = await iban_change(zuora, c, "BG-2")
    again = await iban_change(zuora, c, "BG-2")
    assert first == again and len(methods_of(emulator.tenant, c.account_id)) == 2


async def test_a_create_whose_answer_is_lost_is_found_not_made_twice(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    tenant = emulator.tenant
    c = customer(tenant)
    tenant.faults.slow_after_commit, tenant.faults.slow_after_commit_seconds = 1, 1.0
    new_id = await iban_change(zuora, c, "BG-3")
    assert tenant.faults.slow_after_commit == 0  # the create's answer was the one lost
    assert len(methods_of(tenant, c.account_id)) == 2
    assert tenant.objects["Account"][c.account_id]["DefaultPaymentMethodId"] == new_id


SWITCHES = [
    {"lock_competition": 2},
    {"server_errors": 2},
    {"expire_sessions": 1},
    {"latency_seconds": 0.05},
]


@pytest.mark.parametrize("switch", SWITCHES, ids=lambda switch: next(iter(switch)))
async def test_every_fault_switch_is_ridden_out_without_duplicates(
    zuora: ZuoraAdapter, emulator: Emulator, switch: dict[str, float]
) -> None:
    tenant = emulator.tenant
    c = customer(tenant)
    await zuora.list_payment_methods(c.account_id)  # signed in
    if "expire_sessions" in switch:
        tenant.expire_sessions()
    else:
        for name, value in switch.items():
            setattr(tenant.faults, name, value)
    await iban_change(zuora, c, f"BG-4-{next(iter(switch))}")
    assert len(methods_of(tenant, c.account_id)) == 2
    assert tenant.faults.lock_competition == tenant.faults.server_errors == 0  # they fired
    await zuora.apply_quantity_change(tier_change(c, 12), idempotency_key=f"t-{c.account_id}")
    assert len(versions_of(tenant, c.subscription_number)) == 2


async def test_zuora_refusals_come_back_in_the_gateways_words(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    tenant = emulator.tenant
    c = customer(tenant)
    with pytest.raises(BillingError) as default:
        await zuora.close_payment_method(c.payment_method_id, idempotency_key="k")
    assert default.value.code is ErrorCode.PROVIDER_CONFLICT
    assert default.value.extra["provider_code"] in ("CANNOT_DELETE", "50000030")
    if zuora.transport_name == "rest":  # Zuora's support finds the call by this id
        assert default.value.extra["provider_request_id"]
    tenant.faults.lock_competition = 10
    with pytest.raises(BillingError) as busy:
        await zuora.list_payment_methods(c.account_id)
    assert busy.value.code is ErrorCode.PROVIDER_UNAVAILABLE
    tenant.faults.lock_competition = 0
    assert await zuora.find_account(AccountLookup(number="A99999999")) is None


async def test_collections_in_flight_in_minor_units(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    tenant = emulator.tenant
    c = customer(tenant, seats=3)
    assert await zuora.collections_in_flight(c.account_id) == []
    debit = start_debit(tenant, c.account_number, 8700, "EUR")
    [collection] = await zuora.collections_in_flight(c.account_id)
    assert collection.id == debit.payment_id and collection.amount == Money(8700, "EUR")
    assert collection.status.startswith("Submitted")
    assert collection.payment_method_id == c.payment_method_id
    assert collection.method_masked == "DE****3000"
    assert collection.effective_on == date.today()
    if zuora.transport_name == "soap":  # SOAP names the run through the payment's source
        assert debit.payment_run_number in collection.status


async def test_a_debit_in_flight_is_read_by_gateway_state_not_status(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    """Zuora marks a SEPA payment Processed when it sends it; only its gateway state says
    the bank has not answered. A payment still `Processing` whose gateway state says it
    settled is not in flight."""
    tenant = emulator.tenant
    c = customer(tenant, seats=3)
    payments = tenant.objects["Payment"]
    sent = start_debit(tenant, c.account_number, 4900, "EUR")
    payments[sent.payment_id]["Status"] = "Processed"  # sent, not yet answered
    settled = start_debit(tenant, c.account_number, 2900, "EUR")
    payments[settled.payment_id].update(Status="Processing", GatewayState="Settled")
    for run in tenant.objects["PaymentRun"].values():
        if run["AccountId"] == c.account_id:
            run["Status"] = "Completed"
    [collection] = await zuora.collections_in_flight(c.account_id)
    assert collection.id == sent.payment_id and collection.amount == Money(4900, "EUR")


async def test_a_pending_payment_run_for_the_account_is_in_flight_over_rest(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    """A payment run for the account that has not submitted its debit yet collects the
    account's open balance. REST lists payment runs; SOAP has no PaymentRun object, so it
    sees the run only once the run has submitted its payments."""
    tenant = emulator.tenant
    c = customer(tenant, seats=3)
    tenant.objects["Invoice"][c.invoice_id].update(Balance="87.00")
    target = next_bill_cycle_date(5, date.today())
    tenant.create(
        "PaymentRun",
        {
            "AccountId": c.account_id,
            "Number": f"PR-P{len(tenant.objects['PaymentRun']) + 1:07d}",
            "Status": "Pending",
            "TargetDate": target.isoformat(),
        },
    )
    tenant.create(  # a run for another account is not this account's
        "PaymentRun", {"AccountId": "someone-else", "Number": "PR-OTHER", "Status": "Pending"}
    )
    found = await zuora.collections_in_flight(c.account_id)
    if zuora.transport_name == "soap":
        assert found == []
        return
    [run] = found
    assert run.id.startswith("PR-P") and run.status == "payment run Pending"
    assert run.amount == Money(8700, "EUR") and run.effective_on == target
    assert run.payment_method_id == c.payment_method_id and run.method_masked == "DE****3000"


# -- the tier change ----------------------------------------------------------------------------


def versions_of(tenant: Tenant, number: str) -> list[dict[str, object]]:
    return [s for s in tenant.objects["Subscription"].values() if s["Name"] == number]


async def test_tier_change_previewed_then_applied_on_the_billing_day(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    c = customer(emulator.tenant)
    subscription = await zuora.active_subscription(c.account_id)
    assert subscription is not None and subscription.version == 1
    [charge] = subscription.charges
    assert (charge.id, charge.quantity, charge.unit_price) == (
        c.charge_number,
        10,
        Money(2900, "EUR"),
    )
    change = tier_change(c, 15)
    preview = await zuora.preview_quantity_change(change)
    assert preview.next_invoice == Money(15 * 2900, "EUR")
    assert preview.recurring_before == Money(10 * 2900, "EUR")
    assert preview.recurring_after == Money(15 * 2900, "EUR")
    assert (
        len(versions_of(emulator.tenant, c.subscription_number)) == 1
    )  # a preview changes nothing
    applied = await zuora.apply_quantity_change(change, idempotency_key="tier-1")
    assert applied.version == 2 and applied.charges[0].quantity == 15
    assert applied.charges[0].effective_from == change.effective_on
    again = await zuora.apply_quantity_change(change, idempotency_key="tier-1")
    assert again.version == 2 and len(versions_of(emulator.tenant, c.subscription_number)) == 2


def demo_upsell_customer(tenant: Tenant) -> Customer:
    """The demo's A00000103 under a number of its own: 8 seats priced by the settings' tier
    table as volume tiers (flat fee per tier), billed on the 15th."""
    demo = next(d for d in DEMO_CUSTOMERS if d.number == "A00000103")
    return add_customer(
        tenant,
        account_number=f"T{len(tenant.objects['Account']) + 1:08d}",
        name=demo.name,
        iban=demo.iban,
        bill_cycle_day=demo.bill_cycle_day,
        seats=demo.seats,
        seat_tiers=seat_tiers_of(DEFAULT_PLAN_TIERS),
    )


async def test_the_demo_upsell_is_priced_by_its_tiers(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    """A tiered charge has no price of its own (REST: `price` null, `model` and `tiers`;
    SOAP: ChargeModel and RatePlanChargeTier rows): before, after and the next invoice come
    from the tiers, on both transports."""
    c = demo_upsell_customer(emulator.tenant)
    current = next(t for t in DEFAULT_PLAN_TIERS if t.min_seats <= 8 <= t.max_seats)
    upsell = DEFAULT_PLAN_TIERS[DEFAULT_PLAN_TIERS.index(current) + 1]
    subscription = await zuora.active_subscription(c.account_id)
    assert subscription is not None
    [seats] = subscription.charges
    assert seats.quantity == 8  # its tier's flat fee, as Zuora's invoice items show it
    assert seats.unit_price == Money(current.monthly_price_minor, "EUR")
    day = next_bill_cycle_date(15, date.today())
    change = QuantityChange(c.subscription_number, c.charge_number, upsell.max_seats, day)
    preview = await zuora.preview_quantity_change(change)
    assert preview.effective_on == day
    assert preview.recurring_before == Money(current.monthly_price_minor, "EUR")  # 99.00
    assert preview.recurring_after == Money(upsell.monthly_price_minor, "EUR")  # 249.00
    assert preview.next_invoice == Money(upsell.monthly_price_minor, "EUR")  # a full period
    within = QuantityChange(c.subscription_number, c.charge_number, current.max_seats, day)
    same_tier = await zuora.preview_quantity_change(within)
    assert same_tier.recurring_after == Money(current.monthly_price_minor, "EUR")
    applied = await zuora.apply_quantity_change(change, idempotency_key=f"up-{c.account_id}")
    assert applied.charges[0].quantity == upsell.max_seats
    assert applied.charges[0].unit_price == Money(upsell.monthly_price_minor, "EUR")


@pytest.mark.parametrize("transport", ["soap", "rest"])
async def test_the_sandbox_demo_a00000103_previews_its_upsell(transport: str) -> None:
    """The demo exactly as `make run` seeds it: A00000103, 8 seats (business, 99.00), billed
    on the 15th; the upsell is to the next tier's max seats (enterprise, 50 seats, 249.00)."""
    tenant = Tenant()
    seed_demo(tenant, seat_tiers_of(DEFAULT_PLAN_TIERS))
    business, enterprise = DEFAULT_PLAN_TIERS[2], DEFAULT_PLAN_TIERS[3]
    with serve(create_emulator(tenant)) as base:
        zuora = ZuoraAdapter(
            RestTransport(ZuoraRest(RestConfig(base, tenant.client_id, tenant.client_secret)))
            if transport == "rest"
            else SoapTransport(
                ZuoraSoap(SoapConfig(f"{base}{SOAP_PATH}", tenant.username, tenant.password))
            )
        )
        try:
            account = await zuora.find_account(AccountLookup(number="A00000103"))
            assert account is not None and account.bill_cycle_day == 15
            subscription = await zuora.active_subscription(account.id)
            assert subscription is not None
            [seats] = subscription.charges
            assert seats.quantity == 8 and business.min_seats <= 8 <= business.max_seats
            day = next_bill_cycle_date(15, date.today())
            preview = await zuora.preview_quantity_change(
                QuantityChange(subscription.id, seats.id, enterprise.max_seats, day)
            )
        finally:
            await zuora.close()
    assert preview.effective_on == day and preview.effective_on.day == 15
    assert preview.recurring_before == Money(business.monthly_price_minor, "EUR")
    assert preview.recurring_after == Money(enterprise.monthly_price_minor, "EUR")
    assert preview.next_invoice == Money(enterprise.monthly_price_minor, "EUR")


async def test_a_graduated_tier_charge_prices_each_tier_s_units(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    """Tiered Pricing (each tier prices its own units), per unit: 4 seats at 10.00, then
    5.00 each: 6 seats cost 40 + 2 x 5 = 50.00, 9 seats 40 + 5 x 5 = 65.00."""
    tenant = emulator.tenant
    c = customer(tenant, seats=6)
    [charge_id] = [
        k
        for k, ch in tenant.objects["RatePlanCharge"].items()
        if ch["ChargeNumber"] == c.charge_number
    ]
    tenant.objects["RatePlanCharge"][charge_id].update(ChargeModel=TIERED, Price=None)
    add_tiers(
        tenant,
        charge_id,
        [(1, 4, Decimal("10.00"), "PerUnit"), (5, None, Decimal("5.00"), "PerUnit")],
    )
    preview = await zuora.preview_quantity_change(tier_change(c, 9))
    assert preview.recurring_before == Money(5000, "EUR")
    assert preview.recurring_after == Money(6500, "EUR")
    assert preview.next_invoice == Money(6500, "EUR")


async def test_an_amendment_whose_answer_is_lost_is_not_made_twice(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    tenant = emulator.tenant
    c = customer(tenant)
    tenant.faults.slow_after_commit, tenant.faults.slow_after_commit_seconds = 1, 1.0
    applied = await zuora.apply_quantity_change(tier_change(c, 20), idempotency_key="tier-lost")
    assert applied.version == 2 and applied.charges[0].quantity == 20
    assert len(versions_of(tenant, c.subscription_number)) == 2


async def test_a_tier_change_off_the_billing_day_is_refused(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    c = customer(emulator.tenant)
    change = tier_change(c, 15)
    wrong = QuantityChange(change.subscription_id, change.charge_id, 15, date.today())
    with pytest.raises(BillingError) as refused:
        await zuora.apply_quantity_change(wrong, idempotency_key="off-day")
    assert refused.value.code is ErrorCode.NOT_ON_BILLING_DAY
    assert refused.value.extra["effective_on"] == change.effective_on.isoformat()
    unknown = QuantityChange(change.subscription_id, "C-99999999", 15, change.effective_on)
    with pytest.raises(BillingError) as missing:
        await zuora.preview_quantity_change(unknown)
    assert missing.value.code is ErrorCode.PROVIDER_NOT_FOUND
    assert len(versions_of(emulator.tenant, c.subscription_number)) == 1


async def test_cancel_makes_a_cancelled_version_once(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    c = customer(emulator.tenant)
    end = next_bill_cycle_date(5, date.today())
    await zuora.cancel_subscription(c.subscription_number, end, idempotency_key="cancel-1")
    await zuora.cancel_subscription(c.subscription_number, end, idempotency_key="cancel-1")
    versions = versions_of(emulator.tenant, c.subscription_number)
    assert sorted(str(v["Status"]) for v in versions) == ["Cancelled", "Expired"]
    assert await zuora.active_subscription(c.account_id) is None


# -- refunds and invoices -----------------------------------------------------------------------


async def test_a_refund_is_made_once_even_when_its_answer_is_lost(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    tenant = emulator.tenant
    c = customer(tenant, seats=2)
    tenant.faults.slow_after_commit, tenant.faults.slow_after_commit_seconds = 1, 1.0
    refund = await zuora.refund_payment(
        c.processed_payment_id, Money(1000, "EUR"), idempotency_key="refund-1"
    )
    again = await zuora.refund_payment(
        c.processed_payment_id, Money(1000, "EUR"), idempotency_key="refund-1"
    )
    assert refund == again and refund.amount == Money(1000, "EUR")
    refunds = [
        r for r in tenant.objects["Refund"].values() if r["PaymentId"] == c.processed_payment_id
    ]
    assert len(refunds) == 1
    with pytest.raises(BillingError) as too_much:
        await zuora.refund_payment(
            c.processed_payment_id, Money(9900, "EUR"), idempotency_key="refund-2"
        )
    assert too_much.value.code is ErrorCode.REFUND_EXCEEDS_PAYMENT
    assert too_much.value.extra["refundable"] == {"amount_minor": 4800, "currency": "EUR"}


async def test_invoice_pdf_bytes_come_through_untouched(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    c = customer(emulator.tenant)
    pdf = await zuora.invoice_pdf(c.invoice_id)
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")


# -- REST specifics -----------------------------------------------------------------------------


async def test_rest_calls_carry_a_track_id_zuora_echoes(emulator: Emulator) -> None:
    tenant = emulator.tenant
    rest = ZuoraRest(RestConfig(emulator.base, tenant.client_id, tenant.client_secret))
    c = customer(tenant)
    try:
        await RestTransport(rest).find_account(AccountLookup(id=c.account_id))
        call = rest.last_call
        assert call is not None and call.track_id in emulator.rest.track_ids
        assert call.provider_request_id and call.status == 200
    finally:
        await rest.close()


async def test_the_active_subscription_is_found_on_a_later_page(emulator: Emulator) -> None:
    tenant = emulator.tenant
    c = customer(tenant)
    table = tenant.objects["Subscription"]
    [active_id] = [k for k, s in table.items() if s["Name"] == c.subscription_number]
    for number in range(41):  # old, cancelled subscriptions listed before the active one
        table[f"old-{c.account_id}-{number}"] = {
            **table[active_id],
            "Id": f"old-{c.account_id}-{number}",
            "Name": f"A-OLD-{number}",
            "Status": "Cancelled",
        }
    table[active_id] = table.pop(active_id)
    rest = ZuoraRest(RestConfig(emulator.base, tenant.client_id, tenant.client_secret))
    try:
        found = await RestTransport(rest).active_subscription(
            Account(c.account_id, c.account_number, "", "EUR", 5, None, "Active")
        )
    finally:
        await rest.close()
    assert found is not None and found.id == c.subscription_number


async def test_each_write_names_the_call_that_settled_it(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    """`last_write(key)` gives the fulfilment layer Zuora's request id (REST) and the track
    id, derived from the step's key, of the write that settled the step."""
    c = customer(emulator.tenant)
    key = f"bg:{c.account_id}:1:zuora:zuora_collection:create_sepa_method:1"
    await zuora.create_sepa_payment_method(
        c.account_id, new_method("BG-TRACK"), idempotency_key=key
    )
    call = zuora.last_write(key)
    assert call is not None and call.write and call.track_id.startswith(track_prefix(key) + "-")
    assert len(call.track_id) <= 64 and not set(call.track_id) & set(":;\"'")
    if zuora.transport_name == "rest":
        assert call.method == "POST" and call.path == "/v1/payment-methods"
        assert call.provider_request_id and call.track_id in emulator.rest.track_ids
    else:
        assert call.method == "create"
    assert zuora.last_write("never-used") is None
    await zuora.create_sepa_payment_method(
        c.account_id, new_method("BG-TRACK"), idempotency_key=key
    )
    assert zuora.last_write(key) == call  # the repeat found it: the write stays on record


async def test_every_soap_message_the_adapter_sends_is_valid_for_zuoras_wsdl(
    emulator: Emulator,
) -> None:
    """Zuora's published WSDL, parsed strictly (an unknown element or a wrong type fails),
    reads every request of the IBAN change, the tier change, a refund and an invoice PDF."""
    from lxml import etree
    from zeep import Client, Settings

    published = Client(str(require(ZUORA_WSDL)), settings=Settings(strict=True))
    operations = published.wsdl.bindings["{http://api.zuora.com/}SoapBinding"]._operations
    tenant, face = emulator.tenant, emulator.soap
    config = SoapConfig(f"{emulator.base}{SOAP_PATH}", tenant.username, tenant.password)
    zuora = ZuoraAdapter(SoapTransport(ZuoraSoap(config)))
    c = customer(tenant)
    face.received.clear()
    try:
        await iban_change(zuora, c, "BG-WSDL")
        change = tier_change(c, 11)
        await zuora.preview_quantity_change(change)
        await zuora.apply_quantity_change(change, idempotency_key="wsdl")
        await zuora.refund_payment(c.processed_payment_id, Money(100, "EUR"), idempotency_key="w")
        await zuora.invoice_pdf(c.invoice_id)
    finally:
        await zuora.close()
    seen = set()
    for body in face.received:
        envelope = etree.fromstring(body)
        call = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
        name = etree.QName(call).localname
        operations[name].input.deserialize(envelope)  # raises on anything Zuora's WSDL lacks
        seen.add(name)
    assert {"login", "query", "create", "update", "amend"} <= seen


async def test_soap_queries_are_paged_with_query_more(emulator: Emulator) -> None:
    tenant = emulator.tenant
    c = customer(tenant)
    for number in range(4):
        tenant.create(
            "PaymentMethod",
            {
                "AccountId": c.account_id,
                "Type": "BankTransfer",
                "BankTransferType": "SEPA",
                "IBAN": OLD_IBAN,
                "MandateID": f"PAGE-{number}",
            },
        )
    config = SoapConfig(
        f"{emulator.base}{SOAP_PATH}", tenant.username, tenant.password, query_batch_size=2
    )
    zuora = ZuoraAdapter(SoapTransport(ZuoraSoap(config)))
    emulator.soap.received.clear()
    try:
        methods = await zuora.list_payment_methods(c.account_id)
    finally:
        await zuora.close()
    assert len(methods) == 5
    assert sum(b"queryMore" in body for body in emulator.soap.received) == 2
