"""StripeAdapter against the Stripe emulator over loopback HTTP, through stripe-python: the SEPA
change a careful specialist makes, repeated safely and through the fault switches; and every
request it sent checked against Stripe's OpenAPI description."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date

import pytest
import stripe

from adapters.ports import AccountLookup, NewSepaMethod
from adapters.stripe.adapter import StripeAdapter
from adapters.stripe.client import KEY_PREFIX, StripeConfig
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.face import StripeFace
from adapters.stripe.emulator.forms import parameter_names
from adapters.stripe.emulator.state import Faults, StripeAccount
from gateway.errors import BillingError, ErrorCode
from tests.emulators import serve
from tests.stripe_openapi import unknown_parameters

IBAN = "FR7630006000011234567890189"
OLD_IBAN = "DE89370400440532013000"


class Emulator:
    def __init__(self, base: str, face: StripeFace) -> None:
        self.base, self.face, self.account = base, face, face.account


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    app = create_stripe_emulator(StripeAccount())
    with serve(app) as base:
        yield Emulator(base, app.state.face)


@pytest.fixture
async def adapter(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StripeAdapter]:
    monkeypatch.setattr(stripe._http_client.HTTPClient, "INITIAL_DELAY", 0.01)
    emulator.account.faults = Faults()
    config = StripeConfig(
        emulator.account.api_key, emulator.base, timeout_seconds=0.5, max_network_retries=3
    )
    adapter = StripeAdapter(config)
    yield adapter
    await adapter.close()


def customer(emulator: Emulator, shop: str) -> tuple[str, str]:
    """A customer paying by an older SEPA method, its invoice default."""
    customers = emulator.face.customers
    created = customers.create_customer(
        {
            "email": f"{shop}@example.com",
            "name": f"Shop {shop}",
            "metadata": {"backoffice_id": shop},
        }
    )
    old = customers.create_payment_method(
        {
            "type": "sepa_debit",
            "sepa_debit": {"iban": OLD_IBAN},
            "billing_details": {"name": f"Shop {shop}", "email": f"{shop}@example.com"},
        }
    )
    customers.attach(old["id"], created["id"])
    customers.update_customer(
        created["id"], {"invoice_settings": {"default_payment_method": old["id"]}}
    )
    return created["id"], old["id"]


def new_method(mandate: str) -> NewSepaMethod:
    return NewSepaMethod(
        iban=IBAN,
        holder="Atelier Lumière SARL",
        email="compta@atelier.example",
        mandate_id=mandate,
        mandate_signed_on=date(2026, 11, 23),
    )


async def sepa_change(adapter: StripeAdapter, customer_id: str, old: str, key: str) -> str:
    created = await adapter.create_sepa_payment_method(
        customer_id, new_method(key), idempotency_key=f"{key}:stripe:setup"
    )
    await adapter.set_default_payment_method(customer_id, created.id, idempotency_key=key)
    await adapter.close_payment_method(old, idempotency_key=key)
    return created.id


def methods_of(emulator: Emulator, customer_id: str) -> list[dict[str, object]]:
    return [
        method
        for method in emulator.account.all("payment_method")
        if method["billing_details"]["email"] in ("compta@atelier.example", None)
        and method["customer"] in (customer_id, None)
    ]


async def test_the_full_sepa_change(adapter: StripeAdapter, emulator: Emulator) -> None:
    customer_id, old = customer(emulator, "shop-1")
    found = await adapter.find_account(AccountLookup(backoffice_id="shop-1"))
    assert found is not None and found.id == customer_id
    assert found.default_payment_method_id == old
    new_id = await sepa_change(adapter, customer_id, old, "S-1")
    [method] = await adapter.list_payment_methods(customer_id)
    assert method.id == new_id and method.is_default and method.active
    assert (method.kind, method.masked, method.bank_code) == ("sepa_debit", "FR****0189", "30006")
    assert method.fingerprint and IBAN not in repr(method)
    intent = next(
        record
        for record in emulator.account.all("setup_intent")
        if record["payment_method"] == new_id
    )
    mandate = emulator.account.get("mandate", intent["mandate"])
    assert mandate["status"] == "active"
    assert mandate["customer_acceptance"]["type"] == "offline"
    assert emulator.account.get("payment_method", old)["customer"] is None


async def test_finding_a_customer_by_each_reference(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, _old = customer(emulator, "shop-2")
    for lookup in (
        AccountLookup(id=customer_id),
        AccountLookup(email="shop-2@example.com"),
        AccountLookup(company_name="Shop shop-2"),
        AccountLookup(backoffice_id="shop-2", email="shop-2@example.com"),
    ):
        found = await adapter.find_account(lookup)
        assert found is not None and found.id == customer_id, lookup
    assert await adapter.find_account(AccountLookup(id="cus_missing")) is None
    assert await adapter.find_account(AccountLookup(backoffice_id="nowhere")) is None


async def test_repeating_every_step_makes_nothing_twice(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, old = customer(emulator, "shop-3")
    first = await sepa_change(adapter, customer_id, old, "S-3")
    again = await sepa_change(adapter, customer_id, old, "S-3")
    assert first == again
    assert len(emulator.account.all("setup_intent")) == len(
        {record["payment_method"] for record in emulator.account.all("setup_intent")}
    )
    attached = [m for m in emulator.account.all("payment_method") if m["customer"] == customer_id]
    assert [m["id"] for m in attached] == [first]


async def test_a_lost_answer_is_retried_with_the_same_key(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, old = customer(emulator, "shop-4")
    faults = emulator.account.faults
    faults.slow_after_commit, faults.slow_after_commit_seconds = 1, 1.0
    before = len(emulator.account.all("setup_intent"))
    await sepa_change(adapter, customer_id, old, "S-4")
    assert faults.slow_after_commit == 0  # the create's answer was the one lost
    assert len(emulator.account.all("setup_intent")) == before + 1


@pytest.mark.parametrize("switch", ["server_errors", "rate_limited"])
async def test_busy_answers_are_ridden_out(
    adapter: StripeAdapter, emulator: Emulator, switch: str
) -> None:
    customer_id, old = customer(emulator, f"shop-5-{switch}")
    setattr(emulator.account.faults, switch, 2)
    await sepa_change(adapter, customer_id, old, f"S-5-{switch}")
    assert getattr(emulator.account.faults, switch) == 0


async def test_refusals_come_back_in_the_gateways_words(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, _old = customer(emulator, "shop-6")
    bad = NewSepaMethod(
        iban="FR7630006000011234567890188",
        holder="X",
        email="x@example.com",
        mandate_id="M",
        mandate_signed_on=date(2026, 11, 23),
    )
    with pytest.raises(BillingError) as refused:
        await adapter.create_sepa_payment_method(customer_id, bad, idempotency_key="bad-iban")
    assert refused.value.code is ErrorCode.PROVIDER_REJECTED
    assert refused.value.extra["provider_code"] == "invalid_bank_account_iban"
    assert refused.value.extra["provider_request_id"].startswith("req_")
    _other_id, other_old = customer(emulator, "shop-6b")
    with pytest.raises(BillingError) as not_theirs:
        await adapter.set_default_payment_method(customer_id, other_old, idempotency_key="x")
    assert not_theirs.value.code is ErrorCode.PROVIDER_NOT_FOUND
    no_email = NewSepaMethod(
        iban=IBAN, holder="X", email=None, mandate_id="M", mandate_signed_on=date(2026, 11, 23)
    )
    with pytest.raises(BillingError) as needs_email:
        await adapter.create_sepa_payment_method(customer_id, no_email, idempotency_key="no-mail")
    assert needs_email.value.code is ErrorCode.VALIDATION_FAILED


async def test_every_request_is_in_stripes_description_and_every_post_has_our_key(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    customer_id, old = customer(emulator, "shop-7")
    emulator.face.requests.clear()
    await adapter.find_account(AccountLookup(backoffice_id="shop-7", email="shop-7@example.com"))
    await sepa_change(adapter, customer_id, old, "S-7")
    await adapter.list_payment_methods(customer_id)
    seen = list(emulator.face.requests)
    assert {(request.method, request.path.split("/")[2]) for request in seen} >= {
        ("POST", "setup_intents"),
        ("POST", "customers"),
        ("POST", "payment_methods"),
        ("GET", "customers"),
    }
    for request in seen:
        unknown = unknown_parameters(request.method, request.path, parameter_names(request.params))
        assert not unknown, f"{request.method} {request.path}: {unknown}"
        if request.method == "POST":
            assert (request.idempotency_key or "").startswith(KEY_PREFIX), request
