"""What a correction reads and does at Stripe, through StripeAdapter against the emulator over
loopback HTTP: the demo customers' invoices, payments, refunds and subscriptions; refunds in
parts, never beyond what is left and never twice for one key; voiding open invoices only;
cancelling now, at the end of the term or on a date; the invoice PDF and the receipt, fetched
from Stripe's (here: the emulator's) hosts only."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta

import pytest
import stripe

from adapters.ports import Capability, Money, capabilities_of
from adapters.stripe.adapter import StripeAdapter
from adapters.stripe.client import KEY_PREFIX, StripeConfig
from adapters.stripe.documents import allowed_document_url
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.face import StripeFace
from adapters.stripe.emulator.forms import parameter_names
from adapters.stripe.emulator.invoicing import EMULATOR_ORIGIN
from adapters.stripe.emulator.seed import seed_demo
from adapters.stripe.emulator.state import API_KEY, Faults, StripeAccount
from gateway.core.errors import BillingError, ErrorCode
from tests.emulators import serve
from tests.stripe_openapi import unknown_parameters
from tests.stripe_versions import removed_in_pinned_version

TODAY = date.today()


class Emulator:
    def __init__(self, base: str, face: StripeFace) -> None:
        self.base, self.face, self.account = base, face, face.account


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    app = create_stripe_emulator(StripeAccount(), seed=seed_demo)
    with serve(app) as base:
        yield Emulator(base, app.state.face)


def _config(emulator: Emulator, *origins: str) -> StripeConfig:
    return StripeConfig(
        API_KEY, emulator.base, timeout_seconds=2, max_network_retries=1, document_origins=origins
    )


@pytest.fixture
async def adapter(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StripeAdapter]:
    monkeypatch.setattr(stripe._http_client.HTTPClient, "INITIAL_DELAY", 0.01)
    emulator.account.faults = Faults()
    adapter = StripeAdapter(_config(emulator, emulator.base))
    yield adapter
    await adapter.close()


def paid_customer(
    emulator: Emulator, name: str, amount: int = 4900, status: str = "paid"
) -> tuple[str, str, str]:
    """A customer with a monthly subscription and one invoice: (customer, subscription,
    invoice) ids."""
    customer = emulator.face.customers.create_customer({"name": name, "email": f"{name}@x.test"})
    billing = emulator.face.billing
    price = billing.create_price("Plan", amount, "eur")
    subscription = billing.create_subscription(customer["id"], price["id"], 1)
    invoice = billing.pay_invoice_now(subscription["id"], status)
    return customer["id"], subscription["id"], invoice["id"]


def pdf_problems(pdf: bytes) -> list[str]:
    """What a PDF reader would stumble on: each cross-reference entry must point at its
    object, `startxref` at the table, each stream's /Length at its bytes."""
    problems = []
    start = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    if not pdf[start:].startswith(b"xref"):
        problems.append("startxref does not point at the xref table")
    table = re.match(rb"xref\s+0 (\d+)\s+((?:\d{10} \d{5} [fn] ?\r?\n)+)", pdf[start:])
    if table is None:
        return [*problems, "no readable xref table"]
    entries = table.group(2).splitlines()
    for number, entry in enumerate(entries[1:], start=1):
        offset = int(entry[:10])
        if not pdf[offset:].startswith(b"%d 0 obj" % number):
            problems.append(f"object {number} is not at {offset}")
    for length, stream in re.findall(rb"/Length (\d+) >>\nstream\n(.*?)endstream", pdf, re.S):
        if int(length) != len(stream):
            problems.append(f"stream length {int(length)} != {len(stream)}")
    return problems


# -- the demo customers ----------------------------------------------------------------------


async def test_the_card_customer_paid_once_and_nothing_is_refunded(
    adapter: StripeAdapter,
) -> None:
    [invoice] = await adapter.list_invoices("cus_wrong_plan_card")
    assert (invoice.status, invoice.total, invoice.balance) == (
        "paid",
        Money(4900, "EUR"),
        Money(0, "EUR"),
    )
    assert invoice.number and invoice.subscription_id == "sub_wrong_plan_card" and invoice.has_pdf
    [payment] = await adapter.list_payments("cus_wrong_plan_card")
    assert payment.status == "succeeded" and payment.amount == Money(4900, "EUR")
    assert payment.refunded == Money(0, "EUR") and payment.refundable == Money(4900, "EUR")
    assert payment.method_masked == "card ****4242" and payment.has_receipt
    assert payment.invoice_ids == (invoice.id,) and invoice.payment_ids == (payment.id,)
    [subscription] = await adapter.list_subscriptions("cus_wrong_plan_card")
    assert subscription.status == "active" and not subscription.prepaid
    assert subscription.current_period_start and subscription.current_period_end
    assert subscription.current_period_start < TODAY < subscription.current_period_end
    assert await adapter.list_refunds("cus_wrong_plan_card") == []
    # by its id alone, as `POST /v1/subscriptions/stripe/{id}/cancel` finds it
    assert await adapter.get_subscription(subscription.id) == subscription
    assert await adapter.get_subscription("sub_no_such_one") is None


async def test_the_invoiced_customer_has_an_open_invoice_and_no_payment(
    adapter: StripeAdapter,
) -> None:
    [invoice] = await adapter.list_invoices("cus_wrong_plan_invoiced")
    assert invoice.status == "open" and invoice.balance == Money(12000, "EUR")
    assert invoice.due_on is not None and invoice.due_on > TODAY and invoice.payment_ids == ()
    assert await adapter.list_payments("cus_wrong_plan_invoiced") == []
    assert await adapter.get_invoice(invoice.id) == invoice


async def test_the_prepaid_package_runs_a_year_from_91_days_ago(adapter: StripeAdapter) -> None:
    [subscription] = await adapter.list_subscriptions("cus_prepaid_package")
    assert subscription.prepaid and subscription.charges[0].billing_period == "Year"
    assert subscription.current_period_start == TODAY - timedelta(days=91)
    assert subscription.current_period_end == TODAY - timedelta(days=91) + timedelta(days=365)
    [payment] = await adapter.list_payments("cus_prepaid_package")
    assert payment.amount == Money(120000, "EUR") and payment.method_masked == "DE****3000"


@pytest.mark.parametrize(
    ("customer", "amount"),
    [
        ("cus_big_refund", Money(250000, "EUR")),
        ("cus_yen", Money(15000, "JPY")),
        ("cus_dinar", Money(12340, "KWD")),  # Stripe takes no 12.345 KWD: steps of 0.010
    ],
)
async def test_amounts_in_each_currencys_minor_units(
    adapter: StripeAdapter, customer: str, amount: Money
) -> None:
    [invoice] = await adapter.list_invoices(customer)
    [payment] = await adapter.list_payments(customer)
    assert invoice.total == amount and payment.amount == amount
    assert await adapter.get_payment(payment.id) == payment


async def test_unknown_ids_read_as_none(adapter: StripeAdapter) -> None:
    assert await adapter.get_invoice("in_missing0000") is None
    assert await adapter.get_payment("pi_missing0000") is None
    assert capabilities_of(adapter) >= {
        Capability.BILLING_HISTORY,
        Capability.RECEIPTS,
        Capability.INVOICE_PDFS,
    }


# -- refunds ---------------------------------------------------------------------------------


async def test_a_partial_refund_shows_and_a_second_beyond_what_is_left_is_refused(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, _subscription, _invoice = paid_customer(emulator, "partial")
    [payment] = await adapter.list_payments(customer_id)
    first = await adapter.refund_payment(payment.id, Money(1000, "EUR"), idempotency_key="h-1")
    assert first.payment_id == payment.id and first.created_at is not None
    [after] = await adapter.list_payments(customer_id)
    assert after.refunded == Money(1000, "EUR") and after.refundable == Money(3900, "EUR")
    with pytest.raises(BillingError) as too_much:
        await adapter.refund_payment(payment.id, Money(4000, "EUR"), idempotency_key="h-2")
    assert too_much.value.code is ErrorCode.REFUND_EXCEEDS_PAYMENT
    assert too_much.value.extra["refundable"] == {"amount_minor": 3900, "currency": "EUR"}
    assert "39.00 EUR is left" in too_much.value.detail
    rest = await adapter.refund_payment(payment.id, Money(3900, "EUR"), idempotency_key="h-3")
    refunds = await adapter.list_refunds(customer_id)
    assert {r.id for r in refunds} == {rest.id, first.id}
    assert sum(r.amount.amount_minor for r in refunds) == 4900
    refunded = await adapter.get_payment(payment.id)
    assert refunded is not None and refunded.refundable == Money(0, "EUR")
    charge_events = [e for e in emulator.account.events if e["type"] == "charge.refunded"]
    assert charge_events[-1]["data"]["object"]["refunded"] is True


async def test_the_same_refund_key_twice_makes_one_refund(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, _subscription, _invoice = paid_customer(emulator, "twice")
    [payment] = await adapter.list_payments(customer_id)
    together = await asyncio.gather(
        adapter.refund_payment(payment.id, Money(2000, "EUR"), idempotency_key="h-twice"),
        adapter.refund_payment(payment.id, Money(2000, "EUR"), idempotency_key="h-twice"),
    )
    later = await adapter.refund_payment(payment.id, Money(2000, "EUR"), idempotency_key="h-twice")
    assert together[0] == together[1] == later
    [only] = await adapter.list_refunds(customer_id)
    assert only.amount == Money(2000, "EUR")


async def test_two_refunds_racing_never_exceed_the_payment(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, _subscription, _invoice = paid_customer(emulator, "racing")
    [payment] = await adapter.list_payments(customer_id)
    outcomes = await asyncio.gather(
        adapter.refund_payment(payment.id, Money(3000, "EUR"), idempotency_key="h-race-1"),
        adapter.refund_payment(payment.id, Money(3000, "EUR"), idempotency_key="h-race-2"),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, BillingError)]
    assert len(refused) == 1 and refused[0].code is ErrorCode.REFUND_EXCEEDS_PAYMENT
    [after] = await adapter.list_payments(customer_id)
    assert after.refunded == Money(3000, "EUR")


async def test_a_payment_not_yet_succeeded_is_not_refundable(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    intent = emulator.face.billing.start_debit("cus_DemoAtelier01", 1500, "EUR")
    payment = await adapter.get_payment(intent["id"])
    assert payment is not None and payment.status == "processing"
    assert payment.refundable == Money(0, "EUR") and payment.method_masked == "FR****2606"
    assert not payment.has_receipt  # Stripe makes one once the debit succeeded
    with pytest.raises(BillingError) as refused:
        await adapter.refund_payment(intent["id"], Money(100, "EUR"), idempotency_key="h-pend")
    assert refused.value.code is ErrorCode.PAYMENT_NOT_REFUNDABLE
    emulator.face.billing.settle_debits("cus_DemoAtelier01")
    settled = await adapter.get_payment(intent["id"])
    assert settled is not None and settled.status == "succeeded" and settled.has_receipt


# -- voiding and cancelling ------------------------------------------------------------------


async def test_a_paid_invoice_is_not_voided_an_open_one_is(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    _customer, _subscription, paid_id = paid_customer(emulator, "void-paid")
    with pytest.raises(BillingError) as paid:
        await adapter.void_invoice(paid_id, idempotency_key="h-void-1")
    assert paid.value.code is ErrorCode.INVOICE_NOT_OPEN and "refund" in paid.value.detail
    _customer, _subscription, open_id = paid_customer(emulator, "void-open", status="open")
    await adapter.void_invoice(open_id, idempotency_key="h-void-2")
    await adapter.void_invoice(open_id, idempotency_key="h-void-2")
    voided = await adapter.get_invoice(open_id)
    assert voided is not None and voided.status == "void" and voided.balance == Money(0, "EUR")


async def test_cancel_now_at_the_end_of_the_term_or_on_a_date(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, now_id, _invoice = paid_customer(emulator, "cancel-now")
    await adapter.cancel_subscription(now_id, TODAY, idempotency_key="h-c-1")
    await adapter.cancel_subscription(now_id, TODAY, idempotency_key="h-c-1")
    [cancelled] = await adapter.list_subscriptions(customer_id)
    assert cancelled.status == "canceled"
    assert await adapter.active_subscription(customer_id) is None

    customer_id, term_id, _invoice = paid_customer(emulator, "cancel-term")
    [subscription] = await adapter.list_subscriptions(customer_id)
    assert subscription.current_period_end is not None
    for _ in range(2):
        await adapter.cancel_subscription(
            term_id, subscription.current_period_end, idempotency_key="h-c-2"
        )
    stored = emulator.account.get("subscription", term_id)
    assert stored["cancel_at_period_end"] is True and stored["status"] == "active"
    assert stored["cancel_at"] == stored["items"]["data"][0]["current_period_end"]

    _customer, dated_id, _invoice = paid_customer(emulator, "cancel-date")
    on = TODAY + timedelta(days=3)
    await adapter.cancel_subscription(dated_id, on, idempotency_key="h-c-3")
    stored = emulator.account.get("subscription", dated_id)
    assert date.fromtimestamp(stored["cancel_at"]) == on and not stored["cancel_at_period_end"]


# -- documents -------------------------------------------------------------------------------


async def test_the_invoice_pdf_is_a_pdf_naming_the_invoice(adapter: StripeAdapter) -> None:
    [invoice] = await adapter.list_invoices("cus_dinar")
    pdf = await adapter.invoice_pdf(invoice.id)
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert invoice.number is not None and invoice.number.encode() in pdf
    assert b"Dinar Customer WLL" in pdf and b"Total: 12.340 KWD" in pdf
    assert pdf_problems(pdf) == []


async def test_the_receipt_is_stripes_html_page(adapter: StripeAdapter) -> None:
    [payment] = await adapter.list_payments("cus_yen")
    body, media_type = await adapter.receipt(payment.id)
    assert media_type.startswith("text/html")
    assert b"<html" in body and b"15000 JPY" in body and b"card ****4242" in body


async def test_documents_come_only_from_allowed_hosts(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    _customer, _subscription, invoice_id = paid_customer(emulator, "elsewhere")
    stored = emulator.account.get("invoice", invoice_id)
    real = stored["invoice_pdf"]
    try:
        stored["invoice_pdf"] = "https://files.stripe.com.evil.example/invoice.pdf"
        with pytest.raises(BillingError) as foreign:
            await adapter.invoice_pdf(invoice_id)
        assert foreign.value.code is ErrorCode.PROVIDER_REJECTED
        assert foreign.value.extra["host"] == "files.stripe.com.evil.example"
        # An allowed link that redirects elsewhere is not followed there.
        stored["invoice_pdf"] = f"{EMULATOR_ORIGIN}/_emulator/redirect?to=http://127.0.0.2:9/x"
        with pytest.raises(BillingError) as redirected:
            await adapter.invoice_pdf(invoice_id)
        assert redirected.value.extra["host"] == "127.0.0.2"
        # ... but a redirect within the allowed hosts is.
        here = real.replace(EMULATOR_ORIGIN, emulator.base)
        stored["invoice_pdf"] = f"{EMULATOR_ORIGIN}/_emulator/redirect?to={here}"
        assert (await adapter.invoice_pdf(invoice_id)).startswith(b"%PDF")
    finally:
        stored["invoice_pdf"] = real
    untrusting = StripeAdapter(_config(emulator))  # the emulator's origin not configured
    try:
        with pytest.raises(BillingError) as not_configured:
            await untrusting.invoice_pdf(invoice_id)
        assert not_configured.value.code is ErrorCode.PROVIDER_REJECTED
    finally:
        await untrusting.close()


# -- Stripe's description ------------------------------------------------------------------


async def test_every_history_request_is_in_stripes_description(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    emulator.face.requests.clear()
    customer_id, subscription_id, _invoice = paid_customer(emulator, "described")
    [payment] = await adapter.list_payments(customer_id)
    await adapter.refund_payment(payment.id, Money(100, "EUR"), idempotency_key="h-d")
    await adapter.list_refunds(customer_id)
    [invoice] = await adapter.list_invoices(customer_id)
    await adapter.get_invoice(invoice.id)
    await adapter.get_payment(payment.id)
    await adapter.list_subscriptions(customer_id)
    await adapter.invoice_pdf(invoice.id)
    await adapter.receipt(payment.id)
    await adapter.cancel_subscription(
        subscription_id, TODAY + timedelta(days=2), idempotency_key="h-d"
    )
    for request in emulator.face.requests:
        names = parameter_names(request.params)
        assert not unknown_parameters(request.method, request.path, names), request
        operation = emulator.face.operation_of(request.method, request.path)
        assert not removed_in_pinned_version(operation, request.params), request
        if request.method == "POST":
            assert (request.idempotency_key or "").startswith(KEY_PREFIX), request


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://pay.stripe.com/invoice/acct_1/test_2/pdf?s=ap", True),
        ("https://files.stripe.com/links/abc", True),
        ("http://pay.stripe.com/invoice/x/pdf", False),  # not over TLS
        ("https://pay.stripe.com:8443/invoice/x/pdf", False),
        ("https://stripe.com.evil.example/x.pdf", False),
        ("https://evilstripe.com/x.pdf", False),
        ("https://user:pw@pay.stripe.com/x.pdf", False),
        ("http://127.0.0.1:8011/files/invoices/in_1.pdf", True),  # the trusted emulator
        ("http://127.0.0.1:8012/files/invoices/in_1.pdf", False),
        ("file:///etc/passwd", False),
    ],
)
def test_which_document_links_are_fetched(url: str, allowed: bool) -> None:
    assert allowed_document_url(url, ("http://127.0.0.1:8011",)) is allowed
