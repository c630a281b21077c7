"""The Stripe contract both ways: the same tests against the project's Stripe emulator and
against localstripe (a stateful fake Stripe the project did not write), for the operations
localstripe supports: finding a customer by id, making a payment method the invoice default,
detaching the old one (repeatable), reading and cancelling a single-item subscription with a
quantity, refunds in parts, and signed webhooks, which the gateway's check must accept from
either signer. Set-up goes through stripe-python where the server
allows it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
import stripe

from adapters.ports import AccountLookup, Money
from adapters.stripe.adapter import StripeAdapter
from adapters.stripe.client import StripeConfig
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.state import API_KEY
from adapters.stripe.signature import verify_stripe_signature
from gateway.core.errors import BillingError, ErrorCode
from tests.emulators import free_port, serve

IBANS = ("DE89370400440532013000", "FR7630006000011234567890189")


@dataclass(frozen=True)
class StripeServer:
    name: str
    base: str
    api_key: str
    face: Any = None  # the emulator's state, for set-up localstripe does through the API


@pytest.fixture(scope="module")
def emulator_server() -> Iterator[StripeServer]:
    app = create_stripe_emulator()
    with serve(app) as base:
        yield StripeServer("emulator", base, API_KEY, app.state.face)


@pytest.fixture(scope="module")
def localstripe_server() -> Iterator[StripeServer]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.localstripe_server", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/v1/balance", headers={"Authorization": "Bearer sk_test_x"})
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("localstripe did not start")
    yield StripeServer("localstripe", base, "sk_test_localstripe")
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(params=["emulator", "localstripe"])
def server(request: pytest.FixtureRequest) -> StripeServer:
    return request.getfixturevalue(f"{request.param}_server")  # type: ignore[no-any-return]


@pytest.fixture
async def adapter(server: StripeServer) -> AsyncIterator[StripeAdapter]:
    adapter = StripeAdapter(StripeConfig(server.api_key, server.base, timeout_seconds=5))
    yield adapter
    await adapter.close()


async def customer_with_two_methods(server: StripeServer) -> tuple[str, str, str]:
    """A customer with two attached SEPA methods, the first its invoice default."""
    client = stripe.StripeClient(
        server.api_key,
        base_addresses={"api": server.base},
        http_client=stripe.HTTPXClient(allow_sync_methods=False),
    )
    created = await client.v1.customers.create_async(
        params={"email": "shared@example.com", "name": "Shared contract"}
    )
    methods = []
    for iban in IBANS:
        method = await client.v1.payment_methods.create_async(
            params={
                "type": "sepa_debit",
                "sepa_debit": {"iban": iban},
                "billing_details": {"name": "Shared contract", "email": "shared@example.com"},
            }
        )
        await client.v1.payment_methods.attach_async(method.id, params={"customer": created.id})
        methods.append(method.id)
    await client.v1.customers.update_async(
        created.id, params={"invoice_settings": {"default_payment_method": methods[0]}}
    )
    return created.id, methods[0], methods[1]


async def test_find_the_customer_by_id(adapter: StripeAdapter, server: StripeServer) -> None:
    customer_id, old, _new = await customer_with_two_methods(server)
    found = await adapter.find_account(AccountLookup(id=customer_id))
    assert found is not None and found.id == customer_id
    assert found.default_payment_method_id == old
    assert await adapter.find_account(AccountLookup(id="cus_doesnotexist00")) is None


async def test_switch_the_default_then_detach_the_old_one(
    adapter: StripeAdapter, server: StripeServer
) -> None:
    customer_id, old, new = await customer_with_two_methods(server)
    await adapter.set_default_payment_method(customer_id, new, idempotency_key="shared-1")
    await adapter.close_payment_method(old, idempotency_key="shared-1")
    await adapter.close_payment_method(old, idempotency_key="shared-1")  # repeat: nothing more
    found = await adapter.find_account(AccountLookup(id=customer_id))
    assert found is not None and found.default_payment_method_id == new


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, dict[str, list[tuple[str | None, bytes]]]]]:
    """Webhook endpoints (`/hook/<server>`) that keep what they receive: (signature, body)."""
    from litestar import Litestar, Request, post

    received: dict[str, list[tuple[str | None, bytes]]] = {}

    @post("/hook/{name:str}", status_code=200)
    async def hook(request: Request[Any, Any, Any], name: str) -> None:
        signature = request.headers.get("stripe-signature")
        received.setdefault(name, []).append((signature, await request.body()))

    # logging_config=None: Litestar's default would replace the process's (redacting) handlers
    with serve(Litestar(route_handlers=[hook], logging_config=None)) as base:
        yield f"{base}/hook", received


async def test_signed_webhooks_pass_the_gateways_check(
    adapter: StripeAdapter,
    server: StripeServer,
    receiver: tuple[str, dict[str, list[tuple[str | None, bytes]]]],
) -> None:
    url, by_server = receiver
    url = f"{url}/{server.name}"
    received = by_server.setdefault(server.name, [])
    secret = f"whsec_{server.name}"
    configure = (
        f"{server.base}/_emulator/webhooks"
        if server.name == "emulator"
        else f"{server.base}/_config/webhooks/shared"
    )
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            configure,
            json={"url": url, "secret": secret} if server.name == "emulator" else None,
            data=None if server.name == "emulator" else {"url": url, "secret": secret},
        )
    assert answer.status_code < 300, answer.text
    customer_id, _old, new = await customer_with_two_methods(server)
    await adapter.set_default_payment_method(customer_id, new, idempotency_key="shared-hook")

    def updates_of_this_customer() -> list[tuple[str | None, bytes]]:
        return [
            (signature, body)
            for signature, body in received
            if json.loads(body).get("type") == "customer.updated"
            and json.loads(body)["data"]["object"]["id"] == customer_id
            and json.loads(body)["data"]["object"]["invoice_settings"]["default_payment_method"]
            == new
        ]

    deadline = time.monotonic() + 10  # localstripe waits a second before it sends
    while time.monotonic() < deadline and not updates_of_this_customer():  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    assert updates_of_this_customer(), f"{server.name} sent no customer.updated"
    for signature, body in received:  # every delivery this signer made
        verify_stripe_signature(body, signature, [secret], tolerance_seconds=300)


async def paid(server: StripeServer, amount: int) -> str:
    """A succeeded payment of `amount` euro cents; its PaymentIntent id."""
    if server.face is not None:  # the emulator takes payments through invoices only
        customer_id, _old, _new = await customer_with_two_methods(server)
        price = server.face.billing.create_price("Seats", amount, "eur")
        subscription = server.face.billing.create_subscription(customer_id, price["id"], 1)
        return str(server.face.billing.pay_invoice_now(subscription["id"])["payment_intent"])
    client = stripe.StripeClient(
        server.api_key,
        base_addresses={"api": server.base},
        http_client=stripe.HTTPXClient(allow_sync_methods=False),
    )
    method = await client.v1.payment_methods.create_async(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    intent = await client.v1.payment_intents.create_async(
        params={
            "amount": amount,
            "currency": "eur",
            "payment_method": method.id,
            "confirm": True,
        }
    )
    assert intent.status == "succeeded", intent.status
    return str(intent.id)


async def test_refunds_in_parts_never_beyond_the_payment(
    adapter: StripeAdapter, server: StripeServer
) -> None:
    payment = await paid(server, 4900)
    first = await adapter.refund_payment(payment, Money(1900, "EUR"), idempotency_key="sr-1")
    again = await adapter.refund_payment(payment, Money(1900, "EUR"), idempotency_key="sr-1")
    assert first == again and first.amount == Money(1900, "EUR")
    with pytest.raises(BillingError) as too_much:
        await adapter.refund_payment(payment, Money(3001, "EUR"), idempotency_key="sr-2")
    assert too_much.value.code is ErrorCode.REFUND_EXCEEDS_PAYMENT
    rest = await adapter.refund_payment(payment, Money(3000, "EUR"), idempotency_key="sr-3")
    assert rest.amount == Money(3000, "EUR")


async def subscribed(server: StripeServer, seats: int) -> tuple[str, str]:
    """A customer with one monthly subscription of `seats`: (customer id, subscription id)."""
    customer_id, _old, _new = await customer_with_two_methods(server)
    if server.face is not None:
        price = server.face.billing.create_price("Seats", 4900, "eur")
        subscription = server.face.billing.create_subscription(customer_id, price["id"], seats)
        return customer_id, str(subscription["id"])
    client = stripe.StripeClient(
        server.api_key,
        base_addresses={"api": server.base},
        http_client=stripe.HTTPXClient(allow_sync_methods=False),
    )
    product = await client.v1.products.create_async(params={"name": "Seats"})
    plan = await client.v1.plans.create_async(  # localstripe has plans, not prices
        params={"product": product.id, "amount": 4900, "currency": "eur", "interval": "month"}
    )
    created = await client.v1.subscriptions.create_async(
        params={"customer": customer_id, "items": [{"plan": plan.id, "quantity": seats}]}
    )
    return customer_id, str(created.id)


async def test_the_active_subscription_and_its_cancellation(
    adapter: StripeAdapter, server: StripeServer
) -> None:
    customer_id, subscription_id = await subscribed(server, seats=3)
    active = await adapter.active_subscription(customer_id)
    assert active is not None and active.id == subscription_id
    [seats] = active.charges
    assert (seats.quantity, seats.unit_price) == (3, Money(4900, "EUR"))
    await adapter.cancel_subscription(subscription_id, date.today(), idempotency_key="sc-1")
    await adapter.cancel_subscription(subscription_id, date.today(), idempotency_key="sc-1")
    assert await adapter.active_subscription(customer_id) is None
