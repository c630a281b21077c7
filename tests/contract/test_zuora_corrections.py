"""ZuoraAdapter's billing corrections against the emulator, over SOAP (the project's WSDL and
Zuora's published one) and REST: what an agent reads (invoices, payments with what is refunded,
refunds, subscriptions with their paid period), partial refunds never beyond what is left, voids
with Zuora's rules, the invoice file, and cancelling the demo subscriptions, each exactly once
under a repeated key and through a lost answer."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.ports import AccountLookup, Capability, Money, capabilities_of
from adapters.zuora.adapter import ZuoraAdapter
from adapters.zuora.emulator import persistence
from adapters.zuora.emulator.app import SOAP_PATH, create_emulator
from adapters.zuora.emulator.rest import RestFace
from adapters.zuora.emulator.seed import add_customer, seed_demo
from adapters.zuora.emulator.seed_cheques import CHEQUE_DEMOS
from adapters.zuora.emulator.seed_corrections import CORRECTION_DEMOS, add_correction_demo
from adapters.zuora.emulator.state import Faults, Tenant
from adapters.zuora.rest_session import RestConfig, ZuoraRest
from adapters.zuora.rest_transport import RestTransport
from adapters.zuora.soap_session import DEFAULT_WSDL, SoapConfig, ZuoraSoap
from adapters.zuora.soap_transport import SoapTransport
from gateway.core.errors import BillingError, ErrorCode
from tests.emulators import serve
from tests.reference_files import ZUORA_WSDL, require

DEMOS = {demo.suffix: demo for demo in CORRECTION_DEMOS}
_numbers = itertools.count(1)


@dataclass
class Emulator:
    base: str
    tenant: Tenant
    state: Any  # the app's state: rest, soap, operation_faults


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    tenant = Tenant()
    app = create_emulator(tenant)
    with serve(app) as base:
        yield Emulator(base, tenant, app.state)


@pytest.fixture(params=["soap, own WSDL", "soap, Zuora's WSDL", "rest"])
async def zuora(request: pytest.FixtureRequest, emulator: Emulator) -> AsyncIterator[ZuoraAdapter]:
    tenant = emulator.tenant
    tenant.faults = Faults()
    emulator.state.operation_faults.clear()
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


def demo_customer(emulator: Emulator, suffix: str) -> str:
    """A fresh copy of a demo customer (its own account number): its account id."""
    copy = replace(DEMOS[suffix], suffix=f"{suffix}-{next(_numbers)}")
    return add_correction_demo(emulator.tenant, copy)


def refunds_of(tenant: Tenant, payment_id: str) -> list[dict[str, Any]]:
    return [r for r in tenant.objects["Refund"].values() if r["PaymentId"] == payment_id]


# -- what an agent reads --------------------------------------------------------------------------


async def test_a_card_customer_s_paid_invoice_and_payment(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = demo_customer(emulator, "WRONG-CARD")
    [invoice] = await zuora.list_invoices(account)
    [payment] = await zuora.list_payments(account)
    assert invoice.status == "paid" and invoice.total == Money(4900, "EUR")
    assert invoice.balance == Money(0, "EUR") and invoice.payment_ids == (payment.id,)
    assert invoice.number and invoice.number.startswith("INV-WRONG-CARD")
    assert invoice.subscription_id and invoice.subscription_id.startswith("A-S-WRONG-CARD")
    assert payment.status == "succeeded" and payment.amount == Money(4900, "EUR")
    assert payment.refunded == Money(0, "EUR") and payment.refundable == Money(4900, "EUR")
    assert payment.invoice_ids == (invoice.id,) and payment.method_masked == "card ****4242"
    assert payment.created_at is not None and not payment.has_receipt
    assert await zuora.get_invoice(invoice.id) == invoice
    assert await zuora.get_payment(payment.id) == payment
    assert await zuora.get_payment("0" * 32) is None and await zuora.get_invoice("0" * 32) is None
    [card] = await zuora.list_payment_methods(account)
    assert card.kind == "card" and card.masked == "card ****4242" and card.is_default
    assert "4242424242424242" not in repr(emulator.tenant.objects["PaymentMethod"])


async def test_a_customer_is_found_by_its_back_office_id(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = demo_customer(emulator, "WRONG-CARD")
    crm_id = str(emulator.tenant.objects["Account"][account]["CrmId"])
    found = await zuora.find_account(AccountLookup(backoffice_id=crm_id))
    assert found is not None and found.id == account
    assert await zuora.find_account(AccountLookup(backoffice_id="BO-NOBODY")) is None


async def test_an_invoiced_customer_has_one_open_invoice_and_no_payment(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = demo_customer(emulator, "WRONG-INVOICED")
    [invoice] = await zuora.list_invoices(account)
    assert invoice.status == "open" and invoice.balance == invoice.total == Money(12000, "EUR")
    assert invoice.due_on is not None and invoice.issued_on is not None
    assert await zuora.list_payments(account) == []


@pytest.mark.parametrize(("suffix", "amount"), [("YEN", Money(15000, "JPY")),
                                                ("DINAR", Money(12345, "KWD"))])  # fmt: skip
async def test_amounts_follow_each_currency_s_exponent(
    zuora: ZuoraAdapter, emulator: Emulator, suffix: str, amount: Money
) -> None:
    account = demo_customer(emulator, suffix)
    [payment] = await zuora.list_payments(account)
    [invoice] = await zuora.list_invoices(account)
    assert payment.amount == amount and invoice.total == amount


async def test_subscriptions_carry_the_period_paid_for(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    today = date.today()
    [package] = await zuora.list_subscriptions(demo_customer(emulator, "PREPAID"))
    assert package.prepaid and package.status == "Active"
    assert package.current_period_start == today - timedelta(days=91)
    assert package.current_period_end == package.current_period_start + timedelta(days=365)
    [monthly] = await zuora.list_subscriptions(demo_customer(emulator, "WRONG-CARD"))
    assert not monthly.prepaid and monthly.current_period_start == today - timedelta(days=10)
    assert monthly.current_period_end is not None and monthly.current_period_end > today
    assert capabilities_of(zuora) >= {Capability.BILLING_HISTORY, Capability.INVOICE_VOIDING}
    assert Capability.RECEIPTS not in capabilities_of(zuora)
    # by its number alone, as `POST /v1/subscriptions/zuora/{number}/cancel` finds it
    assert await zuora.get_subscription(package.id) == package
    assert await zuora.get_subscription("A-S-NO-SUCH-ONE") is None


# -- refunds ------------------------------------------------------------------------------------


async def test_partial_refunds_add_up_and_never_go_beyond_what_is_left(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = demo_customer(emulator, "BIG-REFUND")
    [payment] = await zuora.list_payments(account)
    first = await zuora.refund_payment(payment.id, Money(100000, "EUR"), idempotency_key="r1")
    assert first.amount == Money(100000, "EUR") and first.status == "succeeded"
    assert first.payment_id == payment.id
    await zuora.refund_payment(payment.id, Money(50000, "EUR"), idempotency_key="r2")
    [after] = await zuora.list_payments(account)
    assert after.refunded == Money(150000, "EUR") and after.refundable == Money(100000, "EUR")
    refunds = await zuora.list_refunds(account)
    assert sorted(r.amount.amount_minor for r in refunds) == [50000, 100000]
    assert {r.payment_id for r in refunds} == {payment.id}
    with pytest.raises(BillingError) as too_much:
        await zuora.refund_payment(payment.id, Money(100001, "EUR"), idempotency_key="r3")
    assert too_much.value.code is ErrorCode.REFUND_EXCEEDS_PAYMENT
    assert "1000.00 EUR" in too_much.value.detail
    assert too_much.value.extra["refundable"] == {"amount_minor": 100000, "currency": "EUR"}
    assert len(refunds_of(emulator.tenant, payment.id)) == 2


async def test_the_same_refund_key_twice_makes_one_refund(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    [payment] = await zuora.list_payments(demo_customer(emulator, "WRONG-CARD"))
    once = await zuora.refund_payment(payment.id, Money(4900, "EUR"), idempotency_key="all")
    again = await zuora.refund_payment(payment.id, Money(4900, "EUR"), idempotency_key="all")
    assert once == again and len(refunds_of(emulator.tenant, payment.id)) == 1
    assert (await zuora.get_payment(payment.id)) == replace(payment, refunded=Money(4900, "EUR"))


async def test_a_refund_whose_answer_is_lost_is_made_once(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    [payment] = await zuora.list_payments(demo_customer(emulator, "WRONG-CARD"))
    emulator.state.operation_faults.arm(
        {"operation": "create:Refund", "mode": "lost_after_commit", "seconds": 0}
    )
    refund = await zuora.refund_payment(payment.id, Money(900, "EUR"), idempotency_key="lost")
    assert refund.amount == Money(900, "EUR")
    assert len(refunds_of(emulator.tenant, payment.id)) == 1


# -- voiding ------------------------------------------------------------------------------------


async def test_an_open_invoice_is_voided_once(zuora: ZuoraAdapter, emulator: Emulator) -> None:
    account = demo_customer(emulator, "WRONG-INVOICED")
    [invoice] = await zuora.list_invoices(account)
    await zuora.void_invoice(invoice.id, idempotency_key="void-1")
    voided = await zuora.get_invoice(invoice.id)
    assert voided is not None and voided.status == "void" and voided.balance.amount_minor == 0
    await zuora.void_invoice(invoice.id, idempotency_key="void-1")  # a repeat: nothing more
    assert emulator.tenant.objects["Invoice"][invoice.id]["Status"] == "Canceled"


async def test_a_void_whose_answer_is_lost_ends_void(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    [invoice] = await zuora.list_invoices(demo_customer(emulator, "WRONG-INVOICED"))
    emulator.state.operation_faults.arm(
        {"operation": "update:Invoice", "mode": "lost_after_commit", "seconds": 0, "times": 2}
    )
    await zuora.void_invoice(invoice.id, idempotency_key="void-lost")
    assert emulator.tenant.objects["Invoice"][invoice.id]["Status"] == "Canceled"


async def test_a_paid_invoice_is_not_voided(zuora: ZuoraAdapter, emulator: Emulator) -> None:
    [invoice] = await zuora.list_invoices(demo_customer(emulator, "WRONG-CARD"))
    with pytest.raises(BillingError) as refused:
        await zuora.void_invoice(invoice.id, idempotency_key="void-paid")
    assert refused.value.code is ErrorCode.INVOICE_NOT_OPEN
    assert "paid" in refused.value.detail and "Refund" in refused.value.detail
    assert emulator.tenant.objects["Invoice"][invoice.id]["Status"] == "Posted"


async def test_a_partly_paid_invoice_is_not_voided(zuora: ZuoraAdapter, emulator: Emulator) -> None:
    [invoice] = await zuora.list_invoices(demo_customer(emulator, "WRONG-INVOICED"))
    emulator.tenant.objects["Invoice"][invoice.id]["Balance"] = "60.00"  # half paid
    with pytest.raises(BillingError) as refused:
        await zuora.void_invoice(invoice.id, idempotency_key="void-half")
    assert refused.value.code is ErrorCode.INVOICE_NOT_OPEN
    assert "partly paid" in refused.value.detail
    assert emulator.tenant.objects["Invoice"][invoice.id]["Status"] == "Posted"


async def test_the_invoice_pdf_names_its_number_and_total(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    [invoice] = await zuora.list_invoices(demo_customer(emulator, "WRONG-INVOICED"))
    pdf = await zuora.invoice_pdf(invoice.id)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert str(invoice.number).encode() in pdf and b"Total 120.00 EUR" in pdf


# -- cancelling the demo subscriptions ----------------------------------------------------------


async def test_a_prepaid_package_is_cancelled_at_its_term_end(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = demo_customer(emulator, "PREPAID")
    [package] = await zuora.list_subscriptions(account)
    assert package.current_period_end is not None
    await zuora.cancel_subscription(
        package.id, package.current_period_end, idempotency_key="end-of-term"
    )
    await zuora.cancel_subscription(
        package.id, package.current_period_end, idempotency_key="end-of-term"
    )
    [cancelled] = await zuora.list_subscriptions(account)
    assert cancelled.status == "Cancelled" and cancelled.version == 2
    assert cancelled.current_period_end == package.current_period_end


async def test_a_wrong_plan_is_cancelled_now(zuora: ZuoraAdapter, emulator: Emulator) -> None:
    account = demo_customer(emulator, "WRONG-CARD")
    [subscription] = await zuora.list_subscriptions(account)
    await zuora.cancel_subscription(subscription.id, date.today(), idempotency_key="now")
    assert [s.status for s in await zuora.list_subscriptions(account)] == ["Cancelled"]
    assert await zuora.active_subscription(account) is None


# -- the demo's state file ----------------------------------------------------------------------


def test_a_state_kept_before_the_corrections_demo_gets_its_customers(tmp_path: Path) -> None:
    state_file = tmp_path / "zuora.json"
    earlier = Tenant()
    add_customer(earlier, account_number="A00000101", name="Atelier", iban="DE89370400440532013000")
    persistence.save(state_file, earlier, RestFace(earlier))
    restarted = Tenant()
    create_emulator(restarted, state_file=state_file, seed=seed_demo)
    numbers = {str(a["AccountNumber"]) for a in restarted.objects["Account"].values()}
    assert numbers == (
        {"A00000101"}
        | {f"A-{demo.suffix}" for demo in CORRECTION_DEMOS}
        | {f"A-{demo.suffix}" for demo in CHEQUE_DEMOS}
    )
    again = Tenant()  # and only once
    create_emulator(again, state_file=state_file, seed=seed_demo)
    assert len(again.objects["Account"]) == len(numbers)
