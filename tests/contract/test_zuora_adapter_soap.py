"""ZuoraAdapter over SOAP against the emulator, over loopback HTTP: the IBAN change a careful
specialist makes, repeated safely, through every fault switch."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date

import pytest

from adapters.ports import AccountLookup, NewSepaMethod, capabilities_of
from adapters.zuora.adapter import ZuoraAdapter
from adapters.zuora.emulator.app import SOAP_PATH, create_emulator
from adapters.zuora.emulator.state import Faults, Tenant
from adapters.zuora.soap_session import DEFAULT_WSDL, SoapConfig, ZuoraSoap
from adapters.zuora.soap_transport import SoapTransport
from gateway.errors import BillingError, ErrorCode
from tests.emulators import serve
from tests.reference_files import ZUORA_WSDL, require

IBAN = "FR7630006000011234567890189"
OLD_IBAN = "DE89370400440532013000"


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[str, Tenant]]:
    tenant = Tenant()
    with serve(create_emulator(tenant)) as base:
        yield base, tenant


@pytest.fixture(params=["own WSDL", "Zuora's WSDL"])
async def zuora(
    request: pytest.FixtureRequest, emulator: tuple[str, Tenant]
) -> AsyncIterator[ZuoraAdapter]:
    wsdl = DEFAULT_WSDL if request.param == "own WSDL" else require(ZUORA_WSDL)
    base, tenant = emulator
    tenant.faults = Faults()
    soap = ZuoraSoap(
        SoapConfig(
            url=f"{base}{SOAP_PATH}",
            username=tenant.username,
            password=tenant.password,
            wsdl=wsdl,
            timeout_seconds=0.5,
            max_backoff_seconds=0.05,
        )
    )
    adapter = ZuoraAdapter(SoapTransport(soap))
    yield adapter
    await adapter.close()


def customer(tenant: Tenant) -> tuple[str, str]:
    """An account paying by an older SEPA method, its default."""
    account = tenant.create(
        "Account",
        {
            "AccountNumber": f"A{len(tenant.objects['Account']):08d}",
            "Name": "Atelier Lumière SARL",
            "Currency": "EUR",
            "BillCycleDay": 5,
            "Status": "Active",
        },
    )
    old = tenant.create(
        "PaymentMethod",
        {
            "AccountId": account,
            "Type": "BankTransfer",
            "BankTransferType": "SEPA",
            "IBAN": OLD_IBAN,
            "MandateID": "OLD-1",
        },
    )
    tenant.update("Account", {"Id": account, "DefaultPaymentMethodId": old})
    return account, old


def new_method(mandate: str) -> NewSepaMethod:
    return NewSepaMethod(
        iban=IBAN,
        holder="Atelier Lumière SARL",
        email="compta@atelier.example",
        mandate_id=mandate,
        mandate_signed_on=date(2026, 11, 23),
        bic="AGRIFRPPXXX",
    )


def sepa_methods(tenant: Tenant, account: str) -> list[dict[str, object]]:
    return [m for m in tenant.objects["PaymentMethod"].values() if m["AccountId"] == account]


async def iban_change(zuora: ZuoraAdapter, account: str, old: str, mandate: str) -> str:
    created = await zuora.create_sepa_payment_method(
        account, new_method(mandate), idempotency_key=f"{mandate}:zuora:create-pm"
    )
    await zuora.set_default_payment_method(
        account, created.id, idempotency_key=f"{mandate}:default"
    )
    await zuora.close_payment_method(old, idempotency_key=f"{mandate}:close-old")
    return created.id


async def test_the_full_iban_change(zuora: ZuoraAdapter, emulator: tuple[str, Tenant]) -> None:
    _base, tenant = emulator
    account, old = customer(tenant)
    new_id = await iban_change(zuora, account, old, "BG-1")
    methods = {method.id: method for method in await zuora.list_payment_methods(account)}
    assert methods[new_id].is_default and methods[new_id].active
    assert methods[new_id].kind == "sepa_debit" and methods[new_id].masked == "FR****0189"
    assert methods[new_id].mandate_id == "BG-1"
    assert not methods[old].active and not methods[old].is_default
    assert IBAN not in repr(methods) and OLD_IBAN not in repr(methods)
    found = await zuora.find_account(
        AccountLookup(number=tenant.objects["Account"][account]["AccountNumber"])
    )
    assert found is not None and found.default_payment_method_id == new_id
    assert capabilities_of(zuora) >= {"accounts", "payment_methods", "collections"}


async def test_repeating_every_step_changes_nothing_more(
    zuora: ZuoraAdapter, emulator: tuple[str, Tenant]
) -> None:
    _base, tenant = emulator
    account, old = customer(tenant)
    first = await iban_change(zuora, account, old, "BG-2")
    again = await iban_change(zuora, account, old, "BG-2")
    assert first == again and len(sepa_methods(tenant, account)) == 2


async def test_a_create_whose_answer_is_lost_is_found_not_made_twice(
    zuora: ZuoraAdapter, emulator: tuple[str, Tenant]
) -> None:
    _base, tenant = emulator
    account, old = customer(tenant)
    tenant.faults.slow_after_commit, tenant.faults.slow_after_commit_seconds = 1, 1.0
    new_id = await iban_change(zuora, account, old, "BG-3")
    assert len(sepa_methods(tenant, account)) == 2
    assert tenant.objects["Account"][account]["DefaultPaymentMethodId"] == new_id


@pytest.mark.parametrize(
    "switch", [{"lock_competition": 2}, {"server_errors": 2}, {"expire_sessions": 1}]
)
async def test_busy_refusals_and_expired_sessions_are_ridden_out(
    zuora: ZuoraAdapter, emulator: tuple[str, Tenant], switch: dict[str, int]
) -> None:
    _base, tenant = emulator
    account, old = customer(tenant)
    await zuora.list_payment_methods(account)  # signed in
    if "expire_sessions" in switch:
        tenant.expire_sessions()
    else:
        for name, value in switch.items():
            setattr(tenant.faults, name, value)
    await iban_change(zuora, account, old, f"BG-4-{next(iter(switch))}")
    assert len(sepa_methods(tenant, account)) == 2


async def test_zuora_refusals_come_back_in_the_gateways_words(
    zuora: ZuoraAdapter, emulator: tuple[str, Tenant]
) -> None:
    _base, tenant = emulator
    account, old = customer(tenant)
    with pytest.raises(BillingError) as default:
        await zuora.close_payment_method(old, idempotency_key="k")
    assert default.value.code is ErrorCode.PROVIDER_CONFLICT
    assert default.value.extra["provider_code"] == "CANNOT_DELETE"
    tenant.faults.lock_competition = 10
    with pytest.raises(BillingError) as busy:
        await zuora.list_payment_methods(account)
    assert busy.value.code is ErrorCode.PROVIDER_UNAVAILABLE
    tenant.faults.lock_competition = 0


async def test_collections_in_flight_in_minor_units(
    zuora: ZuoraAdapter, emulator: tuple[str, Tenant]
) -> None:
    _base, tenant = emulator
    account, old = customer(tenant)
    tenant.create(
        "Payment",
        {
            "AccountId": account,
            "Amount": "49.00",
            "Status": "Processing",
            "PaymentMethodId": old,
            "EffectiveDate": "2026-11-23",
        },
    )
    tenant.create("Payment", {"AccountId": account, "Amount": "49.00", "Status": "Processed"})
    [collection] = await zuora.collections_in_flight(account)
    assert collection.amount.amount_minor == 4900 and collection.amount.currency == "EUR"
    assert collection.payment_method_id == old


async def test_tier_change_previewed_then_applied_on_the_billing_day(
    zuora: ZuoraAdapter, emulator: tuple[str, Tenant]
) -> None:
    from adapters.ports import QuantityChange, next_bill_cycle_date
    from adapters.zuora.emulator.seed import add_customer

    _base, tenant = emulator
    c = add_customer(tenant, account_number=f"T{len(tenant.objects['Account'])}", name="Tier SARL", iban=OLD_IBAN, bill_cycle_day=5, seats=10)
    subscription = await zuora.active_subscription(c.account_id)
    assert subscription is not None and subscription.version == 1
    [charge] = subscription.charges
    assert charge.quantity == 10 and charge.unit_price.amount_minor == 2900
    day = next_bill_cycle_date(5, date.today())
    change = QuantityChange(subscription.id, charge.id, 15, day)
    preview = await zuora.preview_quantity_change(change)
    assert preview.next_invoice.amount_minor == 15 * 2900
    assert preview.recurring_before.amount_minor == 10 * 2900
    assert preview.recurring_after.amount_minor == 15 * 2900
    applied = await zuora.apply_quantity_change(change, idempotency_key="tier-1")
    assert applied.version == 2 and applied.charges[0].quantity == 15
    assert applied.charges[0].effective_from == day
    again = await zuora.apply_quantity_change(change, idempotency_key="tier-1")
    assert again.version == 2
