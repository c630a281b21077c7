"""Money in yen, euro and dinar through ZuoraAdapter and the emulator over loopback HTTP, by
SOAP and by REST: what Zuora holds is the amount the gateway meant, in the currency's own
decimals, and what the gateway reads back is the same number of minor units."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from decimal import Decimal

import pytest

from adapters.ports import Money
from adapters.zuora.adapter import ZuoraAdapter
from adapters.zuora.emulator.app import SOAP_PATH, create_emulator
from adapters.zuora.emulator.debits import start_debit
from adapters.zuora.emulator.seed import Customer, add_customer
from adapters.zuora.emulator.seed_corrections import CORRECTION_DEMOS, add_correction_demo
from adapters.zuora.emulator.state import Tenant, ZuoraError
from adapters.zuora.rest_session import RestConfig, ZuoraRest
from adapters.zuora.rest_transport import RestTransport
from adapters.zuora.soap_session import DEFAULT_WSDL, SoapConfig, ZuoraSoap
from adapters.zuora.soap_transport import SoapTransport
from gateway.core.errors import BillingError, ErrorCode
from tests.emulators import serve

IBAN = "DE89370400440532013000"


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[str, Tenant]]:
    tenant = Tenant()
    with serve(create_emulator(tenant)) as base:
        yield base, tenant


@pytest.fixture(params=["soap", "rest"])
async def zuora(
    request: pytest.FixtureRequest, emulator: tuple[str, Tenant]
) -> AsyncIterator[ZuoraAdapter]:
    base, tenant = emulator
    transport: SoapTransport | RestTransport
    if request.param == "rest":
        rest = RestConfig(
            base,
            tenant.client_id,
            tenant.client_secret,
            timeout_seconds=2.0,
            max_backoff_seconds=0.05,
        )
        transport = RestTransport(ZuoraRest(rest))
    else:
        soap = SoapConfig(
            f"{base}{SOAP_PATH}",
            tenant.username,
            tenant.password,
            DEFAULT_WSDL,
            timeout_seconds=2.0,
            max_backoff_seconds=0.05,
        )
        transport = SoapTransport(ZuoraSoap(soap))
    adapter = ZuoraAdapter(transport)
    yield adapter
    await adapter.close()


def paid_in(tenant: Tenant, currency: str, paid: str) -> Customer:
    """An account billing in `currency` whose processed payment was `paid` (Zuora's decimal)."""
    number = f"A{len(tenant.objects['Account']) + 1:08d}"
    c = add_customer(tenant, account_number=number, name=f"{currency} Customer", iban=IBAN)
    tenant.objects["Account"][c.account_id]["Currency"] = currency
    tenant.objects["Payment"][c.processed_payment_id]["Amount"] = paid
    return c


def refunds_held(tenant: Tenant, payment_id: str) -> list[Decimal]:
    return [
        Decimal(str(refund["Amount"]))
        for refund in tenant.objects["Refund"].values()
        if refund["PaymentId"] == payment_id
    ]


@pytest.mark.parametrize(
    ("currency", "paid", "refund_minor", "held"),
    [
        ("JPY", "15000", 15000, Decimal("15000")),  # all of it: 15000 yen, not 150 or 1500000
        ("EUR", "49.00", 1990, Decimal("19.90")),
        ("KWD", "12.345", 1234, Decimal("1.234")),
        ("OMR", "5.000", 5, Decimal("0.005")),  # the smallest refund a rial allows
    ],
)
async def test_a_refund_is_made_and_read_back_in_the_currency_s_own_decimals(
    zuora: ZuoraAdapter,
    emulator: tuple[str, Tenant],
    currency: str,
    paid: str,
    refund_minor: int,
    held: Decimal,
) -> None:
    tenant = emulator[1]
    c = paid_in(tenant, currency, paid)
    key = f"money-{currency}-{c.account_number}"
    refund = await zuora.refund_payment(
        c.processed_payment_id, Money(refund_minor, currency), idempotency_key=key
    )
    assert refund.amount == Money(refund_minor, currency)
    assert refunds_held(tenant, c.processed_payment_id) == [held]
    again = await zuora.refund_payment(
        c.processed_payment_id, Money(refund_minor, currency), idempotency_key=key
    )
    assert again == refund and len(refunds_held(tenant, c.processed_payment_id)) == 1


async def test_a_yen_refund_beyond_the_payment_is_refused(
    zuora: ZuoraAdapter, emulator: tuple[str, Tenant]
) -> None:
    tenant = emulator[1]
    c = paid_in(tenant, "JPY", "15000")
    with pytest.raises(BillingError) as too_much:
        await zuora.refund_payment(
            c.processed_payment_id, Money(15001, "JPY"), idempotency_key=f"over-{c.account_id}"
        )
    assert too_much.value.code in (ErrorCode.REFUND_EXCEEDS_PAYMENT, ErrorCode.PROVIDER_REJECTED)
    assert refunds_held(tenant, c.processed_payment_id) == []


@pytest.mark.parametrize(
    ("currency", "collecting", "minor"),
    [
        ("JPY", "15000", 15000),
        ("EUR", "49.00", 4900),
        ("KWD", "12.345", 12345),
        ("BHD", "0.007", 7),
    ],
)
async def test_a_debit_in_flight_is_read_in_minor_units_of_its_currency(
    zuora: ZuoraAdapter, emulator: tuple[str, Tenant], currency: str, collecting: str, minor: int
) -> None:
    tenant = emulator[1]
    c = paid_in(tenant, currency, "1")
    debit = start_debit(tenant, c.account_number, minor, currency)
    assert Decimal(tenant.objects["Payment"][debit.payment_id]["Amount"]) == Decimal(collecting)
    [collection] = await zuora.collections_in_flight(c.account_id)
    assert collection.id == debit.payment_id and collection.amount == Money(minor, currency)


def test_the_emulator_refuses_an_amount_finer_than_the_currency_as_zuora_does(
    emulator: tuple[str, Tenant],
) -> None:
    tenant = emulator[1]
    c = paid_in(tenant, "JPY", "15000")
    with pytest.raises(ZuoraError, match="more decimals than JPY"):
        tenant.create("Refund", {"PaymentId": c.processed_payment_id, "Amount": "150.50"})
    k = paid_in(tenant, "KWD", "12.345")
    tenant.create("Refund", {"PaymentId": k.processed_payment_id, "Amount": "0.001"})
    assert refunds_held(tenant, k.processed_payment_id) == [Decimal("0.001")]


@pytest.mark.parametrize(
    ("suffix", "paid", "refund"),
    [
        ("YEN", Money(15000, "JPY"), Money(2500, "JPY")),
        ("DINAR", Money(12345, "KWD"), Money(45, "KWD")),
    ],
)
async def test_the_yen_and_dinar_demos_read_and_refund_exactly(
    zuora: ZuoraAdapter, emulator: tuple[str, Tenant], suffix: str, paid: Money, refund: Money
) -> None:
    tenant = emulator[1]
    [demo] = [d for d in CORRECTION_DEMOS if d.suffix == suffix]
    unique = replace(demo, suffix=f"{suffix}-{len(tenant.objects['Account'])}")
    account_id = add_correction_demo(tenant, unique)
    [invoice] = await zuora.list_invoices(account_id)
    [payment] = await zuora.list_payments(account_id)
    assert invoice.total == paid and payment.amount == paid and payment.refundable == paid
    await zuora.refund_payment(payment.id, refund, idempotency_key=f"demo-{account_id}")
    [after] = await zuora.list_payments(account_id)
    left = Money(paid.amount_minor - refund.amount_minor, paid.currency)
    assert after.refunded == refund and after.refundable == left
