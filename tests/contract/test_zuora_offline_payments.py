"""ZuoraAdapter's offline payments (cheques) against the emulator over loopback, over SOAP (the
project's WSDL and Zuora's published one) and REST: an External payment with the tenant's Check
method, applied to an invoice (its balance down, paid when nothing is left) or to the account's
credit balance; a repeat under the same payment number creates nothing, also after a lost
answer; a bounce cancels it (the invoice open again, the credit taken back), harmlessly twice;
and Zuora's refusals in the gateway's words."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.ports import AccountLookup, Capability, Money, NewOfflinePayment, capabilities_of
from adapters.zuora.adapter import ZuoraAdapter
from adapters.zuora.emulator import persistence
from adapters.zuora.emulator.app import SOAP_PATH, create_emulator
from adapters.zuora.emulator.external_payments import add_tenant_payment_methods
from adapters.zuora.emulator.rest import RestFace
from adapters.zuora.emulator.seed_cheques import CHEQUE_DEMOS, add_cheque_demo, seed_cheques
from adapters.zuora.emulator.state import Faults, Tenant
from adapters.zuora.rest_session import RestConfig, ZuoraRest
from adapters.zuora.rest_transport import RestTransport
from adapters.zuora.soap_session import DEFAULT_WSDL, SoapConfig, ZuoraSoap
from adapters.zuora.soap_transport import SoapTransport
from gateway.core.errors import BillingError, ErrorCode
from tests.emulators import serve
from tests.reference_files import ZUORA_WSDL, require
from tests.zuora_sdk import check_calls

DEMOS = {demo.currency: demo for demo in CHEQUE_DEMOS}
_numbers = itertools.count(1)
PATIENCE_SECONDS = 0.5  # how long the adapter waits for an answer


@dataclass
class Emulator:
    base: str
    tenant: Tenant
    state: Any  # the app's state: rest, soap, operation_faults


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    tenant = Tenant()
    add_tenant_payment_methods(tenant)
    app = create_emulator(tenant)
    with serve(app) as base:
        yield Emulator(base, tenant, app.state)


@pytest.fixture(params=["soap, own WSDL", "soap, Zuora's WSDL", "rest"])
async def zuora(request: pytest.FixtureRequest, emulator: Emulator) -> AsyncIterator[ZuoraAdapter]:
    tenant = emulator.tenant
    tenant.faults = Faults()
    emulator.state.operation_faults.clear()
    transport: SoapTransport | RestTransport
    if request.param == "rest":
        transport = RestTransport(
            ZuoraRest(
                RestConfig(
                    emulator.base,
                    tenant.client_id,
                    tenant.client_secret,
                    timeout_seconds=PATIENCE_SECONDS,
                    max_backoff_seconds=0.05,
                )
            )
        )
    else:
        wsdl = DEFAULT_WSDL if request.param == "soap, own WSDL" else require(ZUORA_WSDL)
        config = SoapConfig(
            f"{emulator.base}{SOAP_PATH}",
            tenant.username,
            tenant.password,
            wsdl,
            timeout_seconds=PATIENCE_SECONDS,
            max_backoff_seconds=0.05,
        )
        transport = SoapTransport(ZuoraSoap(config))
    adapter = ZuoraAdapter(transport)
    yield adapter
    await adapter.close()


def cheque_customer(emulator: Emulator, currency: str = "EUR") -> str:
    """A fresh copy of a cheque customer (its own account number): its account id."""
    demo = DEMOS[currency]
    return add_cheque_demo(emulator.tenant, replace(demo, suffix=f"{demo.suffix}-{next(_numbers)}"))


def invoice_of(tenant: Tenant, account_id: str, amount: str) -> dict[str, Any]:
    [invoice] = [
        i
        for i in tenant.objects["Invoice"].values()
        if i["AccountId"] == account_id and i["Amount"] == amount
    ]
    return invoice


def cheque(
    account_id: str,
    amount_minor: int,
    currency: str = "EUR",
    invoice_id: str | None = None,
    number: str | None = None,
) -> NewOfflinePayment:
    number = number or f"CHQ-OP-20261205-{next(_numbers):04d}"
    return NewOfflinePayment(
        account_id=account_id,
        invoice_id=invoice_id,
        amount=Money(amount_minor, currency),
        reference=f"0001{number[-4:]}",
        payment_number=number,
        effective_on=date.today(),
        description=f"Cheque {number.removeprefix('CHQ-')}",
    )


def payments_numbered(tenant: Tenant, number: str) -> list[dict[str, Any]]:
    return [p for p in tenant.objects["Payment"].values() if p.get("PaymentNumber") == number]


def answer_too_late(emulator: Emulator) -> None:
    """The next write is made, and its answer comes after the adapter has given up on it."""
    emulator.tenant.faults = Faults(
        slow_after_commit=1, slow_after_commit_seconds=PATIENCE_SECONDS + 0.3
    )


def check_method(tenant: Tenant) -> str:
    [method] = [
        m
        for m in tenant.objects["PaymentMethod"].values()
        if m.get("Type") == "Check" and m.get("AccountId") is None
    ]
    return str(method["Id"])


# -- recording ------------------------------------------------------------------------------------


async def test_a_cheque_pays_part_of_an_invoice_then_the_rest(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = cheque_customer(emulator, "USD")
    invoice = invoice_of(emulator.tenant, account, "1200.00")
    part = cheque(account, 119999, "USD", invoice["Id"])
    first = await zuora.record_offline_payment(part, idempotency_key="part-1")
    assert first.status == "recorded" and first.amount == Money(119999, "USD")
    assert first.invoice_id == invoice["Id"] and first.invoice_status == "open"
    assert first.payment_number == part.payment_number and first.reference == part.reference
    assert Decimal(invoice["Balance"]) == Decimal("0.01")  # exact, in the currency's cents
    [stored] = payments_numbered(emulator.tenant, part.payment_number)
    assert stored["Type"] == "External" and stored["Status"] == "Processed"
    assert stored["PaymentMethodId"] == check_method(emulator.tenant)
    assert stored["ReferenceId"] == part.reference and stored["Comment"] == part.description
    assert stored["EffectiveDate"] == date.today().isoformat()
    rest = cheque(account, 1, "USD", invoice["Id"])
    last = await zuora.record_offline_payment(rest, idempotency_key="part-2")
    assert last.invoice_status == "paid" and Decimal(invoice["Balance"]) == 0
    read = await zuora.get_invoice(invoice["Id"])
    assert read is not None and read.status == "paid"
    assert set(read.payment_ids) == {first.id, last.id}


async def test_a_cheque_without_an_invoice_is_a_credit_on_the_account(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = cheque_customer(emulator, "GBP")
    before = {i["Id"]: i["Balance"] for i in emulator.tenant.objects["Invoice"].values()}
    credit = await zuora.record_offline_payment(
        cheque(account, 5000, "GBP"), idempotency_key="credit"
    )
    assert credit.invoice_id is None and credit.invoice_status is None
    assert credit.amount == Money(5000, "GBP") and credit.status == "recorded"
    assert Decimal(emulator.tenant.objects["Account"][account]["CreditBalance"]) == Decimal("50")
    after = {i["Id"]: i["Balance"] for i in emulator.tenant.objects["Invoice"].values()}
    assert after == before  # no invoice paid by it


async def test_a_repeat_returns_the_first_payment_and_creates_nothing(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = cheque_customer(emulator)
    invoice = invoice_of(emulator.tenant, account, "49.00")
    order = cheque(account, 4900, "EUR", invoice["Id"])
    once = await zuora.record_offline_payment(order, idempotency_key="repeat")
    again = await zuora.record_offline_payment(order, idempotency_key="repeat-from-elsewhere")
    assert again == once and once.invoice_status == "paid"
    assert len(payments_numbered(emulator.tenant, order.payment_number)) == 1
    assert Decimal(invoice["Balance"]) == 0


async def test_a_payment_is_found_by_its_number_on_its_own_account_only(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account, other = cheque_customer(emulator), cheque_customer(emulator)
    invoice = invoice_of(emulator.tenant, account, "120.00")
    recorded = await zuora.record_offline_payment(
        cheque(account, 2000, "EUR", invoice["Id"]), idempotency_key="find"
    )
    assert await zuora.find_offline_payment(account, recorded.payment_number) == recorded
    assert await zuora.find_offline_payment(other, recorded.payment_number) is None
    assert await zuora.find_offline_payment(account, "CHQ-NOBODY") is None


async def test_a_lost_answer_still_ends_with_exactly_one_payment(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = cheque_customer(emulator)
    invoice = invoice_of(emulator.tenant, account, "120.00")
    answer_too_late(emulator)
    order = cheque(account, 12000, "EUR", invoice["Id"])
    recorded = await zuora.record_offline_payment(order, idempotency_key="lost")
    assert recorded.status == "recorded" and recorded.invoice_status == "paid"
    assert len(payments_numbered(emulator.tenant, order.payment_number)) == 1
    assert Decimal(invoice["Balance"]) == 0


# -- refusals -------------------------------------------------------------------------------------


async def test_a_paid_invoice_is_refused_as_not_open(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = cheque_customer(emulator)
    invoice = invoice_of(emulator.tenant, account, "49.00")
    await zuora.record_offline_payment(
        cheque(account, 4900, "EUR", invoice["Id"]), idempotency_key="pays-it"
    )
    late = cheque(account, 100, "EUR", invoice["Id"])
    with pytest.raises(BillingError) as refused:
        await zuora.record_offline_payment(late, idempotency_key="too-late")
    assert refused.value.code is ErrorCode.INVOICE_NOT_OPEN
    assert "paid" in refused.value.detail and "credit" in refused.value.detail
    assert payments_numbered(emulator.tenant, late.payment_number) == []


async def test_a_draft_invoice_is_refused_as_not_open(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = cheque_customer(emulator)
    invoice = invoice_of(emulator.tenant, account, "120.00")
    invoice["Status"] = "Draft"  # unposted at Zuora
    order = cheque(account, 1000, "EUR", invoice["Id"])
    with pytest.raises(BillingError) as refused:
        await zuora.record_offline_payment(order, idempotency_key="draft")
    assert refused.value.code is ErrorCode.INVOICE_NOT_OPEN and "draft" in refused.value.detail
    assert payments_numbered(emulator.tenant, order.payment_number) == []


async def test_more_than_the_invoice_s_balance_is_refused_naming_it(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = cheque_customer(emulator)
    invoice = invoice_of(emulator.tenant, account, "49.00")
    order = cheque(account, 4901, "EUR", invoice["Id"])
    with pytest.raises(BillingError) as refused:
        await zuora.record_offline_payment(order, idempotency_key="too-much")
    assert refused.value.code is ErrorCode.CHEQUE_EXCEEDS_INVOICE
    assert "49.00 EUR" in refused.value.detail
    assert refused.value.extra["balance"] == {"amount_minor": 4900, "currency": "EUR"}
    assert payments_numbered(emulator.tenant, order.payment_number) == []
    assert Decimal(invoice["Balance"]) == Decimal("49.00")


async def test_a_cheque_in_another_currency_than_the_account_s_is_refused(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = cheque_customer(emulator, "EUR")
    for order in (cheque(account, 5000, "USD"), cheque(account, 5000, "GBP")):
        with pytest.raises(BillingError) as refused:
            await zuora.record_offline_payment(order, idempotency_key=order.payment_number)
        assert refused.value.code is ErrorCode.CURRENCY_MISMATCH
        assert "EUR" in refused.value.detail
        assert payments_numbered(emulator.tenant, order.payment_number) == []


# -- reversing (a bounced cheque) ---------------------------------------------------------------


async def test_reversing_reopens_the_invoice_and_a_second_reverse_changes_nothing(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = cheque_customer(emulator)
    invoice = invoice_of(emulator.tenant, account, "120.00")
    order = cheque(account, 12000, "EUR", invoice["Id"])
    recorded = await zuora.record_offline_payment(order, idempotency_key="to-bounce")
    assert recorded.invoice_status == "paid"
    reversed_ = await zuora.reverse_offline_payment(
        account, order.payment_number, reason="returned unpaid", idempotency_key="bounce"
    )
    assert reversed_.status == "reversed" and reversed_.invoice_status == "open"
    assert reversed_.id == recorded.id and reversed_.amount == recorded.amount
    assert Decimal(invoice["Balance"]) == Decimal("120.00")
    again = await zuora.reverse_offline_payment(
        account, order.payment_number, reason="returned unpaid", idempotency_key="bounce-2"
    )
    assert again == reversed_ and Decimal(invoice["Balance"]) == Decimal("120.00")
    [stored] = payments_numbered(emulator.tenant, order.payment_number)
    assert stored["Status"] == "Canceled"
    read = await zuora.get_invoice(invoice["Id"])
    assert read is not None and read.status == "open" and read.balance == Money(12000, "EUR")
    # The invoice can be paid again, by the next cheque.
    retry = await zuora.record_offline_payment(
        cheque(account, 12000, "EUR", invoice["Id"]), idempotency_key="second-cheque"
    )
    assert retry.invoice_status == "paid"


async def test_reversing_a_credit_takes_it_back(zuora: ZuoraAdapter, emulator: Emulator) -> None:
    account = cheque_customer(emulator, "USD")
    order = cheque(account, 2500, "USD")
    await zuora.record_offline_payment(order, idempotency_key="credit-to-bounce")
    reversed_ = await zuora.reverse_offline_payment(
        account, order.payment_number, reason="stopped", idempotency_key="credit-bounce"
    )
    assert reversed_.status == "reversed" and reversed_.invoice_id is None
    assert Decimal(emulator.tenant.objects["Account"][account]["CreditBalance"]) == 0


async def test_a_reverse_whose_answer_is_lost_cancels_once(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = cheque_customer(emulator)
    invoice = invoice_of(emulator.tenant, account, "49.00")
    order = cheque(account, 4000, "EUR", invoice["Id"])
    await zuora.record_offline_payment(order, idempotency_key="lost-bounce-record")
    answer_too_late(emulator)
    reversed_ = await zuora.reverse_offline_payment(
        account, order.payment_number, reason="bounced", idempotency_key="lost-bounce"
    )
    assert reversed_.status == "reversed" and reversed_.invoice_status == "open"
    assert Decimal(invoice["Balance"]) == Decimal("49.00")  # given back once, not twice


async def test_reversing_an_unknown_payment_is_refused(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    account = cheque_customer(emulator)
    with pytest.raises(BillingError) as refused:
        await zuora.reverse_offline_payment(
            account, "CHQ-NEVER-RECORDED", reason="bounced", idempotency_key="unknown"
        )
    assert refused.value.code is ErrorCode.PROVIDER_NOT_FOUND


# -- the capability, the seed and the state file ------------------------------------------------


async def test_the_adapter_offers_offline_payments(zuora: ZuoraAdapter) -> None:
    assert Capability.OFFLINE_PAYMENTS in capabilities_of(zuora)


def test_the_seeded_cheque_customers_have_three_open_invoices_each() -> None:
    tenant = Tenant()
    assert seed_cheques(tenant) and not seed_cheques(tenant)  # a second run adds nothing
    assert len(tenant.objects["Account"]) == 3
    names = {a["AccountNumber"]: a for a in tenant.objects["Account"].values()}
    assert {number: a["Name"] for number, a in names.items()} == {
        "A-CHEQUE-EUR": "Cheque Customer EUR SARL",
        "A-CHEQUE-USD": "Cheque Customer USD Inc",
        "A-CHEQUE-GBP": "Cheque Customer GBP Ltd",
    }
    for number, account in names.items():
        currency = number.rsplit("-", 1)[1]
        assert account["Currency"] == currency and account["CrmId"] == f"BO-CHEQUE-{currency}"
        invoices = [
            i for i in tenant.objects["Invoice"].values() if i["AccountId"] == account["Id"]
        ]
        assert sorted(Decimal(i["Balance"]) for i in invoices) == [
            Decimal("49.00"),
            Decimal("120.00"),
            Decimal("1200.00"),
        ]
        assert {i["Status"] for i in invoices} == {"Posted"}
    check_method(tenant)  # the tenant's Check method is there, once


async def test_a_seeded_cheque_customer_is_found_with_its_open_invoices(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    if not any(
        a.get("AccountNumber") == "A-CHEQUE-EUR"
        for a in emulator.tenant.objects["Account"].values()
    ):
        seed_cheques(emulator.tenant)
    account = await zuora.find_account(AccountLookup(backoffice_id="BO-CHEQUE-EUR"))
    assert account is not None and account.number == "A-CHEQUE-EUR"
    assert account.name == "Cheque Customer EUR SARL" and account.currency == "EUR"
    invoices = await zuora.list_invoices(account.id)
    assert sorted(i.balance.amount_minor for i in invoices if i.status == "open") == [
        4900,
        12000,
        120000,
    ]


async def test_recorded_and_reversed_payments_survive_a_restart(tmp_path: Path) -> None:
    tenant = Tenant()
    seed_cheques(tenant)
    account = next(a for a in tenant.objects["Account"].values() if a["Currency"] == "EUR")
    invoice = invoice_of(tenant, account["Id"], "120.00")
    base = {
        "AccountId": account["Id"],
        "PaymentMethodId": check_method(tenant),
        "Type": "External",
        "EffectiveDate": date.today().isoformat(),
    }
    tenant.create(
        "Payment",
        {
            **base,
            "Amount": "120.00",
            "AppliedInvoiceAmount": "120.00",
            "AppliedCreditBalanceAmount": "0",
            "InvoiceId": invoice["Id"],
            "PaymentNumber": "CHQ-KEPT-1",
        },
    )
    credit = tenant.create(
        "Payment",
        {
            **base,
            "Amount": "10.00",
            "AppliedInvoiceAmount": "0",
            "AppliedCreditBalanceAmount": "10.00",
            "PaymentNumber": "CHQ-KEPT-2",
        },
    )
    tenant.update("Payment", {"Id": credit, "Status": "Canceled"})
    state_file = tmp_path / "zuora.json"
    persistence.save(state_file, tenant, RestFace(tenant))
    again = Tenant()
    assert persistence.load(state_file, again, RestFace(again))
    assert [p["Status"] for p in payments_numbered(again, "CHQ-KEPT-1")] == ["Processed"]
    assert [p["Status"] for p in payments_numbered(again, "CHQ-KEPT-2")] == ["Canceled"]
    assert Decimal(again.objects["Invoice"][invoice["Id"]]["Balance"]) == 0
    assert Decimal(again.objects["Account"][account["Id"]]["CreditBalance"]) == 0


async def test_a_number_another_account_s_payment_has_is_refused_by_zuora(
    zuora: ZuoraAdapter, emulator: Emulator
) -> None:
    first, second = cheque_customer(emulator), cheque_customer(emulator)
    taken = cheque(first, 1000)
    await zuora.record_offline_payment(taken, idempotency_key="taken")
    again = replace(taken, account_id=second)
    with pytest.raises(BillingError) as refused:
        await zuora.record_offline_payment(again, idempotency_key="taken-elsewhere")
    assert refused.value.code is ErrorCode.PROVIDER_CONFLICT
    assert refused.value.extra["provider_code"] in ("DUPLICATE_VALUE", "50000030")
    assert len(payments_numbered(emulator.tenant, taken.payment_number)) == 1


# -- the REST requests, against Zuora's own SDK models -------------------------------------------


async def test_the_rest_requests_are_ones_zuora_s_sdk_describes(emulator: Emulator) -> None:
    tenant = emulator.tenant
    sent: list[dict[str, Any]] = []

    async def on_request(request: httpx.Request) -> None:
        if request.url.path.startswith("/v1/payments"):
            body = json.loads(request.content) if request.content else None
            sent.append({"method": request.method, "path": request.url.path, "body": body})

    async def on_response(response: httpx.Response) -> None:
        if response.request.url.path.startswith("/v1/payments"):
            await response.aread()
            sent[-1].update(response=response.json(), check_response=True)

    rest = ZuoraRest(RestConfig(emulator.base, tenant.client_id, tenant.client_secret))
    rest._http.event_hooks = {"request": [on_request], "response": [on_response]}
    zuora = ZuoraAdapter(RestTransport(rest))
    try:
        account = cheque_customer(emulator, "GBP")
        invoice = invoice_of(tenant, account, "120.00")
        paid = cheque(account, 12000, "GBP", invoice["Id"])
        await zuora.record_offline_payment(paid, idempotency_key="sdk-invoice")
        await zuora.record_offline_payment(cheque(account, 700, "GBP"), idempotency_key="sdk-c")
        await zuora.reverse_offline_payment(
            account, paid.payment_number, reason="bounced", idempotency_key="sdk-bounce"
        )
    finally:
        await zuora.close()
    result = check_calls(sent)
    assert not result["problems"], "\n".join(result["problems"])
    assert {
        "POST /v1/payments -> CreatePaymentRequest",
        "PUT /v1/payments/{paymentKey}/cancel -> no body",
    } <= set(result["operations"]), result["operations"]
    [with_invoice, credit] = [call["body"] for call in sent if call["method"] == "POST"]
    assert with_invoice["type"] == "External" and with_invoice["number"] == paid.payment_number
    assert with_invoice["invoices"] == [{"invoiceId": invoice["Id"], "amount": 120}]
    assert with_invoice["paymentMethodId"] == check_method(tenant)
    assert "invoices" not in credit and credit["amount"] == 7
