"""Amounts in Stripe's units against the gateway's ISO minor units, through StripeAdapter and the
emulator over loopback HTTP: a dinar refund Stripe would refuse (last digit not 0) is refused
with a sentence naming the amounts it takes and nothing is refunded; the emulator itself
refuses such amounts as Stripe does; krónur are whole units here and hundredths at Stripe."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import stripe

from adapters.ports import Money
from adapters.stripe.adapter import StripeAdapter
from adapters.stripe.client import StripeConfig, stripe_client
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.face import StripeFace
from adapters.stripe.emulator.seed import seed_demo
from adapters.stripe.emulator.state import API_KEY, StripeAccount
from gateway.core.errors import BillingError, ErrorCode
from tests.emulators import serve


class Emulator:
    def __init__(self, base: str, face: StripeFace) -> None:
        self.base, self.face = base, face


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    app = create_stripe_emulator(StripeAccount(), seed=seed_demo)
    with serve(app) as base:
        yield Emulator(base, app.state.face)


def _config(emulator: Emulator) -> StripeConfig:
    return StripeConfig(API_KEY, emulator.base, timeout_seconds=2, max_network_retries=0)


@pytest.fixture
async def adapter(emulator: Emulator) -> AsyncIterator[StripeAdapter]:
    adapter = StripeAdapter(_config(emulator))
    yield adapter
    await adapter.close()


@pytest.fixture
async def raw(emulator: Emulator) -> AsyncIterator[stripe.StripeClient]:
    """Stripe's API without the adapter: what the emulator answers to any caller."""
    client, http = stripe_client(_config(emulator))
    yield client
    await http.close_async()  # type: ignore[no-untyped-call]


def paid_in(emulator: Emulator, name: str, stripe_amount: int, currency: str) -> str:
    """A customer who paid one invoice of `stripe_amount` (Stripe's units) by card."""
    customers, billing = emulator.face.customers, emulator.face.billing
    customer = customers.create_customer({"name": name, "email": f"{name}@x.test"})
    price = billing.create_price("Plan", stripe_amount, currency)
    subscription = billing.create_subscription(customer["id"], price["id"], 1)
    billing.pay_invoice_now(subscription["id"])
    return str(customer["id"])


def intent_of(emulator: Emulator, customer_id: str) -> str:
    [intent] = [
        i for i in emulator.face.account.all("payment_intent") if i["customer"] == customer_id
    ]
    return str(intent["id"])


async def test_a_dinar_refund_not_in_steps_of_ten_is_refused_and_refunds_nothing(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id = paid_in(emulator, "dinar-steps", 12340, "kwd")
    [payment] = await adapter.list_payments(customer_id)
    assert payment.amount == Money(12340, "KWD")
    with pytest.raises(BillingError) as refused:
        await adapter.refund_payment(payment.id, Money(1235, "KWD"), idempotency_key="u-kwd-1")
    assert refused.value.code is ErrorCode.VALIDATION_FAILED
    assert refused.value.extra == {"field": "amount_minor"}
    assert refused.value.detail == (
        "Stripe takes KWD amounts in steps of 0.010 KWD: refund 1.230 or 1.240 KWD "
        "instead of 1.235 KWD."
    )
    assert await adapter.list_refunds(customer_id) == []
    done = await adapter.refund_payment(payment.id, Money(1230, "KWD"), idempotency_key="u-kwd-2")
    assert done.amount == Money(1230, "KWD")
    after = await adapter.get_payment(payment.id)
    assert after is not None and after.refundable == Money(11110, "KWD")


async def test_the_emulator_refuses_dinar_and_krona_amounts_as_stripe_does(
    raw: stripe.StripeClient, emulator: Emulator
) -> None:
    dinar = intent_of(emulator, paid_in(emulator, "dinar-raw", 12340, "kwd"))
    with pytest.raises(stripe.InvalidRequestError) as odd_dinar:
        await raw.v1.refunds.create_async(params={"payment_intent": dinar, "amount": 1235})
    assert odd_dinar.value.code == "invalid_charge_amount"
    krona = intent_of(emulator, paid_in(emulator, "krona-raw", 50000, "isk"))
    with pytest.raises(stripe.InvalidRequestError) as odd_krona:
        await raw.v1.refunds.create_async(params={"payment_intent": krona, "amount": 150})
    assert odd_krona.value.code == "invalid_charge_amount_no_decimal_compatible"
    assert "evenly divisible by 100" in str(odd_krona.value.user_message)
    with pytest.raises(stripe.InvalidRequestError) as odd_intent:
        await raw.v1.payment_intents.create_async(
            params={"amount": 12345, "currency": "kwd", "customer": "cus_dinar"}
        )
    assert odd_intent.value.code == "invalid_charge_amount"


async def test_kronur_are_whole_units_here_and_hundredths_at_stripe(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id = paid_in(emulator, "krona", 50000, "isk")  # 500 ISK, as Stripe writes it
    [payment] = await adapter.list_payments(customer_id)
    assert payment.amount == Money(500, "ISK")
    done = await adapter.refund_payment(payment.id, Money(120, "ISK"), idempotency_key="u-isk")
    assert done.amount == Money(120, "ISK")
    [charge] = [c for c in emulator.face.account.all("charge") if c["customer"] == customer_id]
    assert charge["amount_refunded"] == 12000  # what Stripe holds: 120.00 ISK
    after = await adapter.get_payment(payment.id)
    assert after is not None and after.refundable == Money(380, "ISK")


def test_the_dinar_demo_customer_paid_what_stripe_takes(emulator: Emulator) -> None:
    [charge] = [c for c in emulator.face.account.all("charge") if c["customer"] == "cus_dinar"]
    assert (charge["amount"], charge["currency"]) == (12340, "kwd")
