"""Every REST request the Zuora adapter sends in the IBAN change, the tier change and a refund,
checked against Zuora's own SDK models (`zuora-sdk`, generated from Zuora's API description):
an unknown field at any depth, a query parameter the operation does not take, or a value the
model refuses fails. The payment-method list the adapter reads is checked the same way, so that
the emulator answers only what Zuora answers. The SDK runs in its own environment
(`tests/zuora_sdk.py`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from adapters.ports import Money, NewSepaMethod, QuantityChange, next_bill_cycle_date
from adapters.zuora.adapter import ZuoraAdapter
from adapters.zuora.emulator.app import create_emulator
from adapters.zuora.emulator.seed import DEMO_SEAT_TIERS, Customer, add_customer
from adapters.zuora.emulator.seed_corrections import CORRECTION_DEMOS, add_correction_demo
from adapters.zuora.emulator.state import Tenant
from adapters.zuora.rest_session import RestConfig, ZuoraRest
from adapters.zuora.rest_transport import RestTransport
from tests.emulators import serve
from tests.zuora_sdk import check_calls

IBAN = "FR7630006000011234567890189"
# Answers whose shape the adapter relies on for what it records: checked field by field.
CHECKED_ANSWERS = ("/payment-methods", "/v1/payments", "/v1/payment-runs")
CHECKED_ANSWER_PREFIXES = ("/v1/subscriptions/",)  # the charges' model, price and tiers


class Recorder:
    """Every request the adapter's HTTP client sends, with the JSON Zuora answered."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def on_request(self, request: httpx.Request) -> None:
        if request.url.path == "/oauth/token":
            return
        body = json.loads(request.content) if request.content else None
        self.calls.append(
            {
                "method": request.method,
                "path": request.url.path,
                "query": dict(parse_qsl(request.url.query.decode())),
                "body": body,
                "check_response": request.url.path.endswith(CHECKED_ANSWERS)
                or request.url.path.startswith(CHECKED_ANSWER_PREFIXES),
            }
        )

    async def on_response(self, response: httpx.Response) -> None:
        if response.request.url.path == "/oauth/token":
            return
        await response.aread()
        if response.headers.get("content-type", "").startswith("application/json"):
            self.calls[-1]["response"] = response.json()


@pytest.fixture(scope="module")
def tenant() -> Tenant:
    return Tenant()


@pytest.fixture(scope="module")
def base(tenant: Tenant) -> Iterator[str]:
    with serve(create_emulator(tenant)) as url:
        yield url


@pytest.fixture
async def recorded(tenant: Tenant, base: str) -> AsyncIterator[tuple[ZuoraAdapter, Recorder]]:
    rest = ZuoraRest(RestConfig(base, tenant.client_id, tenant.client_secret))
    recorder = Recorder()
    rest._http.event_hooks = {"request": [recorder.on_request], "response": [recorder.on_response]}
    adapter = ZuoraAdapter(RestTransport(rest))
    yield adapter, recorder
    await adapter.close()


def customer(tenant: Tenant) -> Customer:
    """Seats priced by tiers (the charge has `model` and `tiers`, no `price`), with a payment
    run for the account still pending (what the in-flight check reads)."""
    number = f"K{len(tenant.objects['Account']) + 1:08d}"
    c = add_customer(
        tenant,
        account_number=number,
        name="Atelier Lumière SARL",
        iban="DE89370400440532013000",
        seat_tiers=DEMO_SEAT_TIERS,
    )
    tenant.create(
        "PaymentRun",
        {"AccountId": c.account_id, "Number": f"PR-{number}", "Status": "Pending"},
    )
    return c


async def every_flow(zuora: ZuoraAdapter, c: Customer) -> None:
    """The IBAN change, the tier change (preview, then apply) and a refund, as the gateway
    makes them, with the reads each one does."""
    method = NewSepaMethod(
        iban=IBAN,
        holder="Atelier Lumière SARL",
        email="compta@atelier.example",
        mandate_id="BG-SDK-1",
        mandate_signed_on=date(2026, 11, 23),
        bic="AGRIFRPPXXX",
    )
    [pending_run] = await zuora.collections_in_flight(c.account_id)
    assert pending_run.id == f"PR-{c.account_number}"
    created = await zuora.create_sepa_payment_method(
        c.account_id, method, idempotency_key="sdk:create"
    )
    await zuora.set_default_payment_method(c.account_id, created.id, idempotency_key="sdk:dflt")
    await zuora.close_payment_method(c.payment_method_id, idempotency_key="sdk:close")
    await zuora.list_payment_methods(c.account_id)
    subscription = await zuora.active_subscription(c.account_id)
    assert subscription is not None
    day = next_bill_cycle_date(5, date.today())
    change = QuantityChange(c.subscription_number, c.charge_number, 12, day)
    await zuora.preview_quantity_change(change)
    await zuora.apply_quantity_change(change, idempotency_key="sdk:tier")
    await zuora.refund_payment(c.processed_payment_id, Money(100, "EUR"), idempotency_key="sdk:r")


# Bodies the adapter once sent (before the SDK check), which the check must keep refusing: if
# it stops seeing these, it has stopped checking.
KNOWN_BAD: list[dict[str, Any]] = [
    {
        "label": "known bad: SEPA mandate fields of the ACH model",
        "method": "POST",
        "path": "/v1/payment-methods",
        "body": {
            "type": "SEPA",
            "accountKey": "A1",
            "IBAN": IBAN,
            "accountHolderInfo": {"accountHolderName": "Atelier"},
            "mandateInfo": {"mandateId": "M-1", "mandateCreationDate": "2026-11-23"},
        },
    },
    {
        "label": "known bad: a preview with processing options",
        "method": "POST",
        "path": "/v1/orders/preview",
        "body": {"orderDate": "2026-12-05", "processingOptions": {"runBilling": False}},
    },
    {
        "label": "known bad: a payment method list with bankName",
        "method": "GET",
        "path": "/v1/accounts/A1/payment-methods",
        "response": {"banktransfer": [{"id": "1", "bankName": "Crédit Agricole"}]},
        "check_response": True,
    },
]


async def test_every_zuora_rest_call_is_one_zuoras_sdk_describes(
    recorded: tuple[ZuoraAdapter, Recorder], tenant: Tenant
) -> None:
    zuora, recorder = recorded
    c = customer(tenant)
    await every_flow(zuora, c)
    result = check_calls([*recorder.calls, *KNOWN_BAD])
    problems = result["problems"]
    assert result["sdk_version"] == "3.21.0"
    for bad in KNOWN_BAD:
        assert any(problem.startswith(bad["label"]) for problem in problems), bad["label"]
    ours = [problem for problem in problems if not problem.startswith("known bad")]
    assert not ours, "\n".join(ours)
    # What the models cannot say, Zuora's documentation does: an UpdateProduct names the rate
    # plan it updates; `referenceId` is the payment gateway's transaction id, so the refund's
    # marker goes in its comment, and the look-up for an earlier refund filters on that.
    calls = recorder.calls
    orders = [call for call in calls if call["path"] in ("/v1/orders", "/v1/orders/preview")]
    assert len(orders) == 2
    for order in orders:
        [action] = order["body"]["subscriptions"][0]["orderActions"]
        assert action["updateProduct"]["ratePlanId"]
    [refund] = [call for call in calls if call["path"].endswith("/refunds")]
    assert "referenceId" not in refund["body"] and "BG-" in refund["body"]["comment"]
    looked_up = [
        call["body"]["queryString"]
        for call in calls
        if call["path"] == "/v1/action/query" and " from Refund " in call["body"]["queryString"]
    ]
    assert looked_up and all(refund["body"]["comment"] in query for query in looked_up)
    # What was checked: each write of the three flows, against the model Zuora documents.
    assert {
        "POST /v1/payment-methods -> CreatePaymentMethodRequest",
        "PUT /v1/accounts/{account-key} -> UpdateAccountRequest",
        "DELETE /v1/payment-methods/{payment-method-id} -> no body",
        "POST /v1/orders/preview -> PreviewOrderRequest",
        "POST /v1/orders -> CreateOrderRequest",
        "POST /v1/payments/{paymentKey}/refunds -> CreateRefundRequest",
        "POST /v1/action/query -> ProxyActionqueryRequest",
        "GET /v1/accounts/{account-key}/payment-methods -> no body",
        # the in-flight check (answers checked: gateway state, runs) and the charges' tiers
        "GET /v1/payments -> no body",
        "GET /v1/payment-runs -> no body",
        "GET /v1/subscriptions/{subscription-key} -> no body",
    } <= set(result["operations"])
    checked = {call["path"] for call in calls if call["check_response"]}
    assert {"/v1/payments", "/v1/payment-runs", f"/v1/subscriptions/{c.subscription_number}"} <= (
        checked
    )


async def test_the_corrections_rest_calls_are_ones_zuoras_sdk_describes(
    recorded: tuple[ZuoraAdapter, Recorder], tenant: Tenant
) -> None:
    """What a correction reads (ZOQL, an account's subscriptions with their term) and writes (a
    refund, an invoice unposted then cancelled), checked as the flows above."""
    zuora, recorder = recorded
    card = add_correction_demo(tenant, replace(CORRECTION_DEMOS[0], suffix="SDK-CARD"))
    invoiced = add_correction_demo(tenant, replace(CORRECTION_DEMOS[1], suffix="SDK-INVOICED"))
    [payment] = await zuora.list_payments(card)
    [method] = await zuora.list_payment_methods(card)  # a card, in the `creditcard` group
    assert method.masked == "card ****4242"
    await zuora.refund_payment(payment.id, Money(900, "EUR"), idempotency_key="sdk:partial")
    await zuora.list_refunds(card)
    [subscription] = await zuora.list_subscriptions(card)
    assert subscription.current_period_end is not None
    [invoice] = await zuora.list_invoices(invoiced)
    await zuora.void_invoice(invoice.id, idempotency_key="sdk:void")
    result = check_calls(recorder.calls)
    assert not result["problems"], "\n".join(result["problems"])
    assert {
        "PUT /v1/invoices/{invoiceKey}/unpost -> no body",
        "PUT /v1/invoices/{invoiceKey}/cancel -> no body",
        "POST /v1/action/query -> ProxyActionqueryRequest",
    } <= set(result["operations"])
    assert any(
        call["path"] == f"/v1/subscriptions/accounts/{card}" and call["check_response"]
        for call in recorder.calls
    )
