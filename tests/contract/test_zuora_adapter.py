"""ZuoraAdapter against the emulator over loopback HTTP, through each transport (SOAP with the
project's WSDL, SOAP with Zuora's published WSDL, REST): the IBAN change and the tier change a
careful specialist makes, repeated safely, through every fault switch."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date

import pytest

from adapters.ports import (
    AccountLookup,
    Capability,
    Money,
    NewSepaMethod,
    QuantityChange,
    capabilities_of,
    next_bill_cycle_date,
)
from adapters.zuora.adapter import ZuoraAdapter
from adapters.zuora.emulator.app import SOAP_PATH, create_emulator
from adapters.zuora.emulator.rest import RestFace
from adapters.zuora.emulator.seed import Customer, add_customer
from adapters.zuora.emulator.soap import SoapFace
from adapters.zuora.emulator.state import Faults, Tenant
from adapters.zuora.rest_session import RestConfig, ZuoraRest
from adapters.zuora.rest_transport import RestTransport
from adapters.zuora.soap_session import DEFAULT_WSDL, SoapConfig, ZuoraSoap
from adapters.zuora.soap_transport import SoapTransport
from gateway.errors import BillingError, ErrorCode
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
        "invoice_voiding",
        "payout_accounts",
        "blocklist_mirror",
    }


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
    c = customer(emulator.tenant, seats=3)
    [collection] = await zuora.collections_in_flight(c.account_id)
    assert collection.amount == Money(8700, "EUR") and collection.status == "Processing"
    assert collection.payment_method_id == c.payment_method_id


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
    assert too_much.value.code is ErrorCode.PROVIDER_REJECTED


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
        assert call.request_id and call.status == 200
    finally:
        await rest.close()


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
