"""Mailed cheques recorded at Stripe (issue 17), through the real adapter and stripe-python against
the emulator over loopback HTTP: a PaymentRecord attached to the invoice (paid in full, or in
part), a credit on the customer's balance without an invoice, a repeat that finds the first and
creates nothing, a bounce that reports the record refunded (the emulator's invoice is open
again) or withdraws the credit, and the refusals said before anything is written. Every call is
one Stripe documents for the pinned API version."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import pytest
import stripe

from adapters.ports import AccountLookup, Capability, Money, NewOfflinePayment, capabilities_of
from adapters.stripe.adapter import StripeAdapter
from adapters.stripe.client import KEY_PREFIX, StripeConfig, derived_key
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.face import LoggedRequest, StripeFace
from adapters.stripe.emulator.forms import parameter_names
from adapters.stripe.emulator.invoicing import create_invoice
from adapters.stripe.emulator.seed import seed_demo
from adapters.stripe.emulator.seed_cheques import CHEQUE_CUSTOMERS
from adapters.stripe.emulator.state import (
    API_KEY,
    Faults,
    OperationFault,
    StripeAccount,
    StripeObject,
)
from gateway.core.errors import BillingError, ErrorCode
from tests.emulators import serve
from tests.stripe_openapi import NEWER_CALLS, unknown_parameters
from tests.stripe_versions import PINNED_VERSION, removed_in_pinned_version

EUR, USD = "cus_cheque_eur", "cus_cheque_usd"
CHEQUE_DAY = date(2026, 12, 5)


class Emulator:
    def __init__(self, base: str, face: StripeFace) -> None:
        self.base, self.face, self.account = base, face, face.account

    def open_invoice(self, customer_id: str, amount: int, currency: str = "eur") -> str:
        """A fresh open invoice of a cheque customer (the seeded ones stay as seeded)."""
        line = {"description": "Subscription", "amount": amount, "quantity": 1, "proration": False}
        return str(create_invoice(self.account, customer_id, None, [line], "open", currency)["id"])

    def invoice(self, invoice_id: str) -> StripeObject:
        return self.account.get("invoice", invoice_id)

    def since(self, start: int) -> list[LoggedRequest]:
        return list(self.face.requests)[start:]

    def writes_since(self, start: int) -> list[LoggedRequest]:
        return [r for r in self.since(start) if r.method in ("POST", "DELETE")]


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
    adapter = StripeAdapter(StripeConfig(API_KEY, emulator.base, timeout_seconds=5))
    yield adapter
    await adapter.close()


def cheque(
    account_id: str,
    invoice_id: str | None,
    amount_minor: int,
    number: str,
    currency: str = "EUR",
) -> NewOfflinePayment:
    return NewOfflinePayment(
        account_id=account_id,
        invoice_id=invoice_id,
        amount=Money(amount_minor, currency),
        reference=f"REF-{number}",
        payment_number=f"CHQ-{number}",
        effective_on=CHEQUE_DAY,
        description=f"Cheque {number}",
    )


def assert_documented(emulator: Emulator, start: int) -> None:
    """Sent with the pinned version, nothing it removed, every parameter one Stripe documents
    for the call, and never the deprecated `paid_out_of_band`."""
    requests = emulator.since(start)
    assert requests
    for request in requests:
        operation = emulator.face.operation_of(request.method, request.path)
        assert request.stripe_version == PINNED_VERSION, request
        assert not removed_in_pinned_version(operation, request.params), request
        names = parameter_names(request.params)
        assert not unknown_parameters(request.method, request.path, names), request
        assert not any("paid_out_of_band" in name for name in names), request


# -- the demo ----------------------------------------------------------------------------------


async def test_the_cheque_customers_each_have_three_open_invoices() -> None:
    with serve(create_stripe_emulator(StripeAccount(), seed=seed_demo)) as base:
        adapter = StripeAdapter(StripeConfig(API_KEY, base))
        try:
            assert Capability.OFFLINE_PAYMENTS in capabilities_of(adapter)
            await _each_has_three_open_invoices(adapter)
        finally:
            await adapter.close()


async def _each_has_three_open_invoices(adapter: StripeAdapter) -> None:
    for customer in CHEQUE_CUSTOMERS:
        account = await adapter.find_account(AccountLookup(backoffice_id=customer.backoffice_id))
        assert account is not None and account.id == customer.id
        assert (account.name, account.currency) == (customer.name, customer.currency.upper())
        invoices = await adapter.list_invoices(customer.id)
        assert sorted(i.balance.amount_minor for i in invoices if i.status == "open") == [
            4900,
            12000,
            120000,
        ]
        assert {i.balance.currency for i in invoices} == {customer.currency.upper()}


# -- recording -----------------------------------------------------------------------------------


async def test_a_cheque_for_the_whole_invoice_pays_it_with_a_payment_record(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    invoice_id = emulator.open_invoice(EUR, 12000)
    start = len(emulator.face.requests)
    recorded = await adapter.record_offline_payment(
        cheque(EUR, invoice_id, 12000, "OP-20261205-0001"), idempotency_key="CHQ-OP-20261205-0001"
    )
    assert recorded.id.startswith("pr_") and recorded.status == "recorded"
    assert recorded.invoice_status == "paid" and recorded.invoice_id == invoice_id
    assert (recorded.amount, recorded.reference) == (Money(12000, "EUR"), "REF-OP-20261205-0001")
    assert recorded.payment_number == "CHQ-OP-20261205-0001" and recorded.account_id == EUR
    invoice = emulator.invoice(invoice_id)
    assert (invoice["status"], invoice["amount_paid"], invoice["amount_remaining"]) == (
        "paid",
        12000,
        0,
    )
    report, attach = emulator.writes_since(start)
    assert report.path == "/v1/payment_records/report_payment"
    assert report.params["amount_requested"] == {"currency": "eur", "value": "12000"}
    assert report.params["outcome"] == "guaranteed"
    assert report.params["payment_method_details"]["type"] == "custom"
    assert report.params["processor_details"] == {
        "type": "custom",
        "custom": {"payment_reference": "REF-OP-20261205-0001"},
    }
    assert report.params["customer_details"] == {"customer": EUR}
    assert report.params["metadata"]["gateway_payment_number"] == "CHQ-OP-20261205-0001"
    assert (attach.path, attach.params) == (
        f"/v1/invoices/{invoice_id}/attach_payment",
        {"payment_record": recorded.id},
    )
    keys = {report.idempotency_key, attach.idempotency_key}
    assert all(key and key.startswith(KEY_PREFIX) for key in keys) and len(keys) == 2
    assert report.idempotency_key == derived_key("CHQ-OP-20261205-0001", "report-payment")
    assert_documented(emulator, start)
    call = adapter.last_write("CHQ-OP-20261205-0001")
    assert call is not None and call.path == attach.path  # the write that paid the invoice


async def test_a_smaller_cheque_pays_part_and_the_invoice_stays_open(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    invoice_id = emulator.open_invoice(EUR, 4900)
    first = await adapter.record_offline_payment(
        cheque(EUR, invoice_id, 2000, "OP-20261205-0002"), idempotency_key="k-partial-1"
    )
    assert first.invoice_status == "open"
    invoice = await adapter.get_invoice(invoice_id)
    assert invoice is not None and invoice.balance == Money(2900, "EUR")
    assert emulator.invoice(invoice_id)["amount_paid"] == 2000
    rest = await adapter.record_offline_payment(
        cheque(EUR, invoice_id, 2900, "OP-20261205-0003"), idempotency_key="k-partial-2"
    )
    assert rest.invoice_status == "paid" and rest.id != first.id
    assert emulator.invoice(invoice_id)["amount_remaining"] == 0


async def test_a_cheque_without_an_invoice_is_a_credit_on_the_customers_balance(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    before = emulator.account.get("customer", USD)["balance"]
    start = len(emulator.face.requests)
    credit = await adapter.record_offline_payment(
        cheque(USD, None, 15000, "OP-20261205-0004", "USD"), idempotency_key="k-credit"
    )
    assert credit.id.startswith("cbtxn_") and credit.status == "recorded"
    assert (credit.invoice_id, credit.invoice_status) == (None, None)
    assert credit.amount == Money(15000, "USD") and credit.reference == "REF-OP-20261205-0004"
    assert emulator.account.get("customer", USD)["balance"] == before - 15000
    [write] = emulator.writes_since(start)
    assert write.path == f"/v1/customers/{USD}/balance_transactions"
    assert write.params["amount"] == "-15000" and write.params["currency"] == "usd"
    assert write.params["metadata"]["gateway_payment_number"] == "CHQ-OP-20261205-0004"
    assert_documented(emulator, start)


async def test_a_repeat_with_the_same_payment_number_creates_nothing(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    invoice_id = emulator.open_invoice(EUR, 4900)
    on_invoice = cheque(EUR, invoice_id, 1000, "OP-20261205-0005")
    as_credit = cheque(EUR, None, 700, "OP-20261205-0006")
    first = await adapter.record_offline_payment(on_invoice, idempotency_key="k-rep-1")
    credit = await adapter.record_offline_payment(as_credit, idempotency_key="k-rep-2")
    records = len(emulator.account.all("payment_record"))
    start = len(emulator.face.requests)
    # the same key (a retry) and another key (the sweep finishing it): found, not made again
    for key in ("k-rep-1", "another-key"):
        again = await adapter.record_offline_payment(on_invoice, idempotency_key=key)
        assert again == first
    assert await adapter.record_offline_payment(as_credit, idempotency_key="x") == credit
    assert emulator.writes_since(start) == []
    assert len(emulator.account.all("payment_record")) == records
    assert emulator.invoice(invoice_id)["amount_paid"] == 1000


async def test_an_offline_payment_is_found_by_its_payment_number(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    invoice_id = emulator.open_invoice(EUR, 12000)
    recorded = await adapter.record_offline_payment(
        cheque(EUR, invoice_id, 12000, "OP-20261205-0007"), idempotency_key="k-find-1"
    )
    credit = await adapter.record_offline_payment(
        cheque(EUR, None, 500, "OP-20261205-0008"), idempotency_key="k-find-2"
    )
    start = len(emulator.face.requests)
    assert await adapter.find_offline_payment(EUR, "CHQ-OP-20261205-0007") == recorded
    assert await adapter.find_offline_payment(EUR, "CHQ-OP-20261205-0008") == credit
    assert await adapter.find_offline_payment(EUR, "CHQ-NEVER-RECORDED") is None
    assert await adapter.find_offline_payment(USD, "CHQ-OP-20261205-0007") is None
    assert emulator.writes_since(start) == []
    assert_documented(emulator, start)


# -- bounces -------------------------------------------------------------------------------------


async def test_a_bounced_cheque_is_reported_refunded_and_the_invoice_is_open_again(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    invoice_id = emulator.open_invoice(EUR, 12000)
    recorded = await adapter.record_offline_payment(
        cheque(EUR, invoice_id, 12000, "OP-20261205-0009"), idempotency_key="k-bounce"
    )
    assert recorded.invoice_status == "paid"
    start = len(emulator.face.requests)
    reversed_ = await adapter.reverse_offline_payment(
        EUR, "CHQ-OP-20261205-0009", reason="Returned unpaid", idempotency_key="k-bounce-r"
    )
    assert reversed_.status == "reversed" and reversed_.invoice_status == "open"
    assert reversed_.id == recorded.id and reversed_.amount == Money(12000, "EUR")
    invoice = emulator.invoice(invoice_id)
    assert (invoice["status"], invoice["amount_paid"], invoice["amount_remaining"]) == (
        "open",
        0,
        12000,
    )
    [refund] = emulator.writes_since(start)
    assert refund.path == f"/v1/payment_records/{recorded.id}/report_refund"
    assert refund.params["outcome"] == "refunded"
    assert refund.params["amount"] == {"currency": "eur", "value": "12000"}
    assert refund.params["processor_details"]["custom"]["refund_reference"]
    assert refund.idempotency_key == derived_key("k-bounce-r", "report-refund")
    assert_documented(emulator, start)
    record = emulator.account.get("payment_record", recorded.id)
    assert record["amount_refunded"]["value"] == 12000
    found = await adapter.find_offline_payment(EUR, "CHQ-OP-20261205-0009")
    assert found is not None and found.status == "reversed"
    # twice: harmless, nothing written, the same answer
    again_start = len(emulator.face.requests)
    again = await adapter.reverse_offline_payment(
        EUR, "CHQ-OP-20261205-0009", reason="Returned unpaid", idempotency_key="k-bounce-r"
    )
    assert again == reversed_ and emulator.writes_since(again_start) == []
    # and the invoice can be paid again
    repaid = await adapter.record_offline_payment(
        cheque(EUR, invoice_id, 12000, "OP-20261205-0010"), idempotency_key="k-repay"
    )
    assert repaid.invoice_status == "paid"


async def test_bouncing_one_of_two_cheques_leaves_the_other_paid_in(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    invoice_id = emulator.open_invoice(EUR, 4900)
    await adapter.record_offline_payment(
        cheque(EUR, invoice_id, 2000, "OP-20261205-0011"), idempotency_key="k-two-1"
    )
    await adapter.record_offline_payment(
        cheque(EUR, invoice_id, 2900, "OP-20261205-0012"), idempotency_key="k-two-2"
    )
    bounced = await adapter.reverse_offline_payment(
        EUR, "CHQ-OP-20261205-0011", reason="Insufficient funds", idempotency_key="k-two-r"
    )
    assert bounced.invoice_status == "open"
    invoice = await adapter.get_invoice(invoice_id)
    assert invoice is not None and invoice.balance == Money(2000, "EUR")
    other = await adapter.find_offline_payment(EUR, "CHQ-OP-20261205-0012")
    assert other is not None and other.status == "recorded"


async def test_a_bounced_credit_is_withdrawn_once(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    before = emulator.account.get("customer", USD)["balance"]
    credit = await adapter.record_offline_payment(
        cheque(USD, None, 3300, "OP-20261205-0013", "USD"), idempotency_key="k-credit-b"
    )
    start = len(emulator.face.requests)
    bounced = await adapter.reverse_offline_payment(
        USD, "CHQ-OP-20261205-0013", reason="Stopped", idempotency_key="k-credit-br"
    )
    assert bounced.status == "reversed" and bounced.id == credit.id
    assert emulator.account.get("customer", USD)["balance"] == before
    [withdrawal] = emulator.writes_since(start)
    assert withdrawal.params["amount"] == "3300"
    assert withdrawal.params["metadata"]["gateway_reverses"] == credit.id
    assert_documented(emulator, start)
    again = await adapter.reverse_offline_payment(
        USD, "CHQ-OP-20261205-0013", reason="Stopped", idempotency_key="k-credit-br"
    )
    assert again == bounced
    assert emulator.account.get("customer", USD)["balance"] == before
    found = await adapter.find_offline_payment(USD, "CHQ-OP-20261205-0013")
    assert found is not None and found.status == "reversed"


async def test_bouncing_a_payment_stripe_does_not_hold_is_refused(
    adapter: StripeAdapter,
) -> None:
    with pytest.raises(BillingError) as missing:
        await adapter.reverse_offline_payment(
            EUR, "CHQ-NOWHERE", reason="x", idempotency_key="k-nowhere"
        )
    assert missing.value.code is ErrorCode.PROVIDER_NOT_FOUND


# -- refusals ------------------------------------------------------------------------------------


async def test_refusals_are_said_before_anything_is_written(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    paid_id = emulator.open_invoice(EUR, 4900)
    await adapter.record_offline_payment(
        cheque(EUR, paid_id, 4900, "OP-20261205-0014"), idempotency_key="k-ref-paid"
    )
    void_id = emulator.open_invoice(EUR, 4900)
    emulator.face.billing.void(void_id)
    open_id = emulator.open_invoice(EUR, 4900)
    start = len(emulator.face.requests)
    cases = [
        (cheque(EUR, paid_id, 100, "R1"), ErrorCode.INVOICE_NOT_OPEN, "is paid"),
        (cheque(EUR, void_id, 100, "R2"), ErrorCode.INVOICE_NOT_OPEN, "is void"),
        (cheque(EUR, open_id, 4901, "R3"), ErrorCode.CHEQUE_EXCEEDS_INVOICE, "49.00 EUR"),
        (cheque(EUR, open_id, 100, "R4", "USD"), ErrorCode.CURRENCY_MISMATCH, "in EUR"),
        (cheque(EUR, None, 100, "R5", "GBP"), ErrorCode.CURRENCY_MISMATCH, "billed in EUR"),
        (cheque(USD, open_id, 100, "R6"), ErrorCode.VALIDATION_FAILED, "not one of"),
    ]
    for order, code, words in cases:
        with pytest.raises(BillingError) as refused:
            await adapter.record_offline_payment(order, idempotency_key=order.payment_number)
        assert refused.value.code is code, order
        assert words in refused.value.detail, refused.value.detail
    exceeds = cases[2]
    with pytest.raises(BillingError) as too_much:
        await adapter.record_offline_payment(exceeds[0], idempotency_key="k-again")
    assert too_much.value.extra["balance"] == {"amount_minor": 4900, "currency": "EUR"}
    assert emulator.writes_since(start) == []
    assert emulator.invoice(open_id)["amount_paid"] == 0


async def test_stripes_refusal_at_attach_time_is_said_in_the_gateways_words(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    """The invoice is paid by someone else between the adapter's check and the attach: Stripe
    refuses the attach, and the adapter reads the invoice again to say why."""
    invoice_id = emulator.open_invoice(EUR, 4900)
    operation = "POST /v1/payment_records/report_payment"
    emulator.account.faults._operations[operation] = OperationFault(mode="slow", seconds=0.4)

    async def paid_elsewhere() -> None:
        await asyncio.sleep(0.15)
        invoice = emulator.invoice(invoice_id)
        invoice["status"], invoice["amount_paid"], invoice["amount_remaining"] = "paid", 4900, 0

    start = len(emulator.face.requests)
    racing = asyncio.create_task(paid_elsewhere())
    with pytest.raises(BillingError) as refused:
        await adapter.record_offline_payment(
            cheque(EUR, invoice_id, 4900, "OP-20261205-0015"), idempotency_key="k-race"
        )
    await racing
    # Checked first, refused by Stripe after; the record left unattached is then withdrawn.
    report, attach, withdraw = emulator.writes_since(start)
    assert (report.path, attach.path) == (
        "/v1/payment_records/report_payment",
        f"/v1/invoices/{invoice_id}/attach_payment",
    )
    assert withdraw.path.startswith("/v1/payment_records/") and withdraw.path.endswith(
        "/report_refund"
    )
    assert withdraw.params["outcome"] == "refunded"
    # Stripe's ledger no longer shows the cheque's money as received for nothing
    record_id = withdraw.path.removeprefix("/v1/payment_records/").removesuffix("/report_refund")
    record = emulator.account.get("payment_record", record_id)
    assert record["amount_refunded"]["value"] == record["amount_guaranteed"]["value"] == 4900
    assert refused.value.code is ErrorCode.INVOICE_NOT_OPEN
    assert "is paid" in refused.value.detail


def test_the_newer_calls_are_named_with_the_version_that_added_them() -> None:
    """The allowance for calls newer than the 2023 description is a short, dated list, and it
    still refuses what stripe-python's types do not have."""
    assert {version for version, _params in NEWER_CALLS.values()} <= {
        "2025-10-29.clover",
        "2026-01-28.clover",
    }
    assert unknown_parameters(
        "POST", "/v1/payment_records/report_payment", ["outcome", "paid_out_of_band"]
    ) == ["paid_out_of_band"]
    assert unknown_parameters(
        "POST", "/v1/payment_records/pr_1/report_refund", ["processor_details[custom][x]"]
    ) == ["processor_details[custom][x]"]
    assert unknown_parameters("POST", "/v1/payment_records/pr_1/report_nothing", []) == [
        "POST /v1/payment_records/pr_1/report_nothing"
    ]


async def test_a_recorded_cheque_survives_a_restart_of_the_sandbox_emulator(
    tmp_path: Path,
) -> None:
    state = tmp_path / "stripe.json"
    first = create_stripe_emulator(StripeAccount(), state_file=state, seed=seed_demo)
    [invoice_id] = [
        invoice["id"]
        for invoice in first.state.account.all("invoice")
        if invoice["customer"] == "cus_cheque_gbp" and invoice["amount_due"] == 4900
    ]
    order = cheque("cus_cheque_gbp", invoice_id, 4900, "OH-20261205-0001", "GBP")
    with serve(first) as base:
        adapter = StripeAdapter(StripeConfig(API_KEY, base))
        try:
            recorded = await adapter.record_offline_payment(order, idempotency_key="k-restart")
        finally:
            await adapter.close()
    with serve(create_stripe_emulator(StripeAccount(), state_file=state)) as base:
        adapter = StripeAdapter(StripeConfig(API_KEY, base))
        try:
            again = await adapter.record_offline_payment(order, idempotency_key="k-other")
            assert again == recorded and again.invoice_status == "paid"
            bounced = await adapter.reverse_offline_payment(
                "cus_cheque_gbp", order.payment_number, reason="x", idempotency_key="k-r"
            )
            assert bounced.invoice_status == "open"
        finally:
            await adapter.close()
