"""The Stripe emulator's billing history as any Stripe client sees it over HTTP: invoices listed
by customer, subscription and status, Stripe's refusals (voiding a paid invoice, refunding more
than is left), document links under the emulator's own address, a scheduled cancellation that
takes effect, and the corrections demo kept across a restart of the sandbox."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.ports import Money
from adapters.stripe.adapter import StripeAdapter
from adapters.stripe.client import API_VERSION, StripeConfig
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.face import StripeFace
from adapters.stripe.emulator.seed import seed_demo
from adapters.stripe.emulator.seed_cheques import CHEQUE_CUSTOMERS
from adapters.stripe.emulator.state import API_KEY, StripeAccount
from tests.emulators import serve

HEADERS = {"Authorization": f"Bearer {API_KEY}", "Stripe-Version": API_VERSION}


class Emulator:
    def __init__(self, base: str, face: StripeFace) -> None:
        self.base, self.face, self.account = base, face, face.account

    def get(self, path: str, **params: str) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", params=params, headers=HEADERS, timeout=5)

    def post(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        return httpx.post(f"{self.base}{path}", data=data, headers=HEADERS, timeout=5)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    app = create_stripe_emulator(StripeAccount(), seed=seed_demo)
    with serve(app) as base:
        yield Emulator(base, app.state.face)


def test_invoices_are_listed_by_customer_subscription_and_status(emulator: Emulator) -> None:
    by_customer = emulator.get("/v1/invoices", customer="cus_wrong_plan_invoiced").json()
    [invoice] = by_customer["data"]
    assert (invoice["status"], invoice["amount_remaining"], invoice["currency"]) == (
        "open",
        12000,
        "eur",
    )
    assert invoice["parent"]["subscription_details"]["subscription"] == "sub_wrong_plan_invoiced"
    assert "payments" not in invoice  # included only when expanded, as at Stripe
    by_subscription = emulator.get("/v1/invoices", subscription="sub_wrong_plan_invoiced").json()
    assert [i["id"] for i in by_subscription["data"]] == [invoice["id"]]
    open_ones = emulator.get("/v1/invoices", status="open", limit="100").json()["data"]
    cheques = {customer.id for customer in CHEQUE_CUSTOMERS}  # three open invoices each
    assert {i["customer"] for i in open_ones} == {"cus_wrong_plan_invoiced", *cheques}
    assert len(open_ones) == 1 + 3 * len(cheques)
    assert emulator.get("/v1/invoices", status="settled").status_code == 400
    paid = emulator.get(
        "/v1/invoices", customer="cus_wrong_plan_card", **{"expand[]": "data.payments"}
    ).json()["data"][0]
    [payment] = paid["payments"]["data"]
    assert payment["payment"]["payment_intent"].startswith("pi_") and payment["status"] == "paid"


def test_payments_list_with_their_latest_charge_expanded(emulator: Emulator) -> None:
    listed = emulator.get(
        "/v1/payment_intents", customer="cus_yen", **{"expand[]": "data.latest_charge"}
    ).json()
    [intent] = listed["data"]
    charge = intent["latest_charge"]
    assert (charge["amount"], charge["currency"], charge["amount_refunded"]) == (15000, "jpy", 0)
    assert charge["payment_method_details"]["card"]["last4"] == "4242"
    plain = emulator.get("/v1/payment_intents", customer="cus_yen").json()["data"][0]
    assert plain["latest_charge"] == charge["id"]


def test_stripes_refusals(emulator: Emulator) -> None:
    [paid] = emulator.get("/v1/invoices", customer="cus_big_refund").json()["data"]
    refused = emulator.post(f"/v1/invoices/{paid['id']}/void")
    assert (
        refused.status_code == 400 and "open or uncollectible" in refused.json()["error"]["message"]
    )
    too_much = emulator.post(
        "/v1/refunds", {"payment_intent": paid["payment_intent"], "amount": "250001"}
    )
    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "amount_too_large"


def test_document_links_lead_to_the_emulator_itself(emulator: Emulator) -> None:
    [invoice] = emulator.get("/v1/invoices", customer="cus_big_refund").json()["data"]
    assert invoice["invoice_pdf"].startswith(emulator.base)
    pdf = httpx.get(invoice["invoice_pdf"], timeout=5)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert b"Big Refund Ltd" in pdf.content and b"2500.00 EUR" in pdf.content
    charge = emulator.get(f"/v1/charges/{invoice['charge']}").json()
    receipt = httpx.get(charge["receipt_url"], timeout=5)
    assert receipt.headers["content-type"].startswith("text/html")
    assert "DE****3000" in receipt.text and "2500.00 EUR" in receipt.text
    assert httpx.get(f"{emulator.base}/files/invoices/in_nothing.pdf", timeout=5).status_code == 404


def test_a_scheduled_cancellation_takes_effect_when_its_moment_passes(
    emulator: Emulator,
) -> None:
    billing = emulator.face.billing
    customer = emulator.face.customers.create_customer({"name": "Later", "email": "l@x.test"})
    price = billing.create_price("Plan", 1000, "eur")
    subscription = billing.create_subscription(customer["id"], price["id"], 1)
    at = int(time.time()) + 3600
    answer = emulator.post(
        f"/v1/subscriptions/{subscription['id']}",
        {"cancel_at": str(at), "proration_behavior": "none"},
    )
    assert answer.status_code == 200 and answer.json()["status"] == "active"
    billing.renew_periods(now=at + 1)
    assert emulator.account.get("subscription", subscription["id"])["status"] == "canceled"


async def test_the_corrections_demo_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "stripe.json"
    with serve(create_stripe_emulator(StripeAccount(), state_file=state, seed=seed_demo)) as base:
        adapter = StripeAdapter(StripeConfig(API_KEY, base, document_origins=(base,)))
        try:
            [payment] = await adapter.list_payments("cus_prepaid_package")
            await adapter.refund_payment(payment.id, Money(50000, "EUR"), idempotency_key="k")
        finally:
            await adapter.close()
    with serve(create_stripe_emulator(StripeAccount(), state_file=state)) as base:
        adapter = StripeAdapter(StripeConfig(API_KEY, base, document_origins=(base,)))
        try:
            [after] = await adapter.list_payments("cus_prepaid_package")
            assert after.refunded == Money(50000, "EUR") and after.invoice_ids
            again = await adapter.refund_payment(
                payment.id, Money(50000, "EUR"), idempotency_key="k"
            )
            assert again.amount == Money(50000, "EUR")
            [only] = await adapter.list_refunds("cus_prepaid_package")
            assert only.id == again.id
            [subscription] = await adapter.list_subscriptions("cus_prepaid_package")
            assert subscription.prepaid
            assert (await adapter.invoice_pdf(after.invoice_ids[0])).startswith(b"%PDF")
            body, _media_type = await adapter.receipt(after.id)
            assert b"500.00 EUR" in body  # refunded so far
        finally:
            await adapter.close()
