"""StripeAdapter against the Stripe emulator over loopback HTTP, through stripe-python: the SEPA
change a careful specialist makes, repeated safely and through the fault switches; and every
request it sent checked against Stripe's OpenAPI description."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date

import pytest
import stripe

from adapters.ports import (
    AccountLookup,
    BlockedItemType,
    Money,
    NewBankAccount,
    NewSepaMethod,
    QuantityChange,
)
from adapters.stripe.adapter import StripeAdapter
from adapters.stripe.client import KEY_PREFIX, StripeConfig
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.face import StripeFace
from adapters.stripe.emulator.forms import parameter_names
from adapters.stripe.emulator.state import Faults, StripeAccount
from gateway.core.errors import BillingError, ErrorCode
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
    subscription_id, item_id, invoice_id = subscriber(emulator, "shop-7b")
    change = QuantityChange(subscription_id, item_id, 3, date.today())
    await adapter.preview_quantity_change(change)
    await adapter.apply_quantity_change(change, idempotency_key="S-7b")
    payment = emulator.account.get("invoice", invoice_id)["payment_intent"]
    await adapter.refund_payment(payment, Money(100, "EUR"), idempotency_key="S-7c")
    await adapter.invoice_links(invoice_id)
    future = date.fromordinal(date.today().toordinal() + 10)
    await adapter.cancel_subscription(subscription_id, future, idempotency_key="S-7d")
    await adapter.cancel_subscription(subscription_id, date.today(), idempotency_key="S-7e")
    account_id, old_bank = partner(emulator, "partner7")
    await adapter.find_connected_account(AccountLookup(backoffice_id="partner7"))
    bank = NewBankAccount(iban=IBAN, holder="Brasserie du Port SAS", currency="EUR")
    added = await adapter.add_payout_account(account_id, bank, idempotency_key="S-7f")
    await adapter.make_default_payout_account(account_id, added.id, idempotency_key="S-7f")
    await adapter.remove_payout_account(account_id, old_bank, idempotency_key="S-7f")
    await adapter.list_payout_accounts(account_id)
    await adapter.add_blocked("ip_address", "198.51.100.9", idempotency_key="S-7g")
    await adapter.remove_blocked("ip_address", "198.51.100.9")
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


# -- seats, cancellation, refunds, invoices ----------------------------------------------------


def subscriber(emulator: Emulator, shop: str, seats: int = 2) -> tuple[str, str, str]:
    """A customer with a monthly subscription of `seats` at 49 EUR, and a paid invoice."""
    customer_id, _old = customer(emulator, shop)
    billing = emulator.face.billing
    price = billing.create_price("Seats", 4900, "eur")
    subscription = billing.create_subscription(customer_id, price["id"], seats)
    invoice = billing.pay_invoice_now(subscription["id"])
    return subscription["id"], subscription["items"]["data"][0]["id"], invoice["id"]


async def test_a_seat_change_previewed_then_applied_with_the_same_proration(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    subscription_id, item_id, _invoice = subscriber(emulator, "seats-1", seats=2)
    change = QuantityChange(subscription_id, item_id, 4, date.today())
    preview = await adapter.preview_quantity_change(change)
    assert preview.recurring_before == Money(2 * 4900, "EUR")
    assert preview.recurring_after == Money(4 * 4900, "EUR")
    # two thirds of the period left: prorations of +2 seats for 2/3 of a month, then 4 seats
    assert 4 * 4900 < preview.next_invoice.amount_minor < 4 * 4900 + 2 * 4900
    item = emulator.account.get("subscription_item", item_id)
    assert item["quantity"] == 2  # a preview changes nothing
    applied = await adapter.apply_quantity_change(change, idempotency_key="seats-1")
    assert applied.charges[0].quantity == 4
    upcoming = emulator.face.billing.preview({"subscription": subscription_id})
    assert upcoming["amount_due"] == preview.next_invoice.amount_minor
    again = await adapter.apply_quantity_change(change, idempotency_key="seats-1")
    assert again == applied
    assert len(emulator.account.get("subscription", subscription_id)["pending_invoice_items"]) == 2


async def test_a_seat_change_without_proration_bills_the_new_seats_next_period(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    subscription_id, item_id, _invoice = subscriber(emulator, "seats-2", seats=2)
    change = QuantityChange(subscription_id, item_id, 3, date.today(), proration="none")
    preview = await adapter.preview_quantity_change(change)
    assert preview.next_invoice == Money(3 * 4900, "EUR")
    active = await adapter.active_subscription(
        emulator.account.get("subscription", subscription_id)["customer"]
    )
    assert active is not None and active.id == subscription_id


async def test_cancel_now_once(adapter: StripeAdapter, emulator: Emulator) -> None:
    subscription_id, _item, _invoice = subscriber(emulator, "cancel-1")
    await adapter.cancel_subscription(subscription_id, date.today(), idempotency_key="c-1")
    await adapter.cancel_subscription(subscription_id, date.today(), idempotency_key="c-1")
    assert emulator.account.get("subscription", subscription_id)["status"] == "canceled"


async def test_refunds_never_exceed_what_is_left(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    _subscription, _item, invoice_id = subscriber(emulator, "refund-1", seats=2)
    payment = emulator.account.get("invoice", invoice_id)["payment_intent"]
    first = await adapter.refund_payment(payment, Money(5000, "EUR"), idempotency_key="r-1")
    again = await adapter.refund_payment(payment, Money(5000, "EUR"), idempotency_key="r-1")
    assert first == again and first.amount == Money(5000, "EUR")
    with pytest.raises(BillingError) as too_much:
        await adapter.refund_payment(payment, Money(4801, "EUR"), idempotency_key="r-2")
    assert too_much.value.code is ErrorCode.REFUND_EXCEEDS_PAYMENT
    assert too_much.value.extra["refundable"]["amount_minor"] == 4800
    rest = await adapter.refund_payment(payment, Money(4800, "EUR"), idempotency_key="r-3")
    assert rest.amount == Money(4800, "EUR")
    assert emulator.account.get(
        "charge", emulator.account.get("payment_intent", payment)["latest_charge"]
    )["refunded"]


async def test_invoices_void_when_open_and_links_for_the_customer(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    subscription_id, _item, paid_id = subscriber(emulator, "invoice-1")
    links = await adapter.invoice_links(paid_id)
    assert links.invoice_pdf and links.hosted_invoice and links.receipt
    with pytest.raises(BillingError) as paid:
        await adapter.void_invoice(paid_id, idempotency_key="v-1")
    assert paid.value.code is ErrorCode.INVOICE_NOT_OPEN
    subscription = emulator.account.get("subscription", subscription_id)
    open_invoice = emulator.face.billing._invoice(
        subscription["customer"], subscription_id, [{"amount": 4900, "description": "x"}], "open"
    )
    await adapter.void_invoice(open_invoice["id"], idempotency_key="v-2")
    await adapter.void_invoice(open_invoice["id"], idempotency_key="v-2")
    assert emulator.account.get("invoice", open_invoice["id"])["status"] == "void"


# -- Connect payout accounts -------------------------------------------------------------------


def partner(emulator: Emulator, shop: str) -> tuple[str, str]:
    """A Connect partner (legal name vs trading name) paid out to one bank account."""
    connect = emulator.face.connect
    account = connect.create_account(
        "Brasserie du Port SAS", "Le Petit Port", {"backoffice_id": shop}, f"acct_{shop}"
    )
    old = connect.add_bank(
        account["id"],
        {
            "external_account": {
                "object": "bank_account",
                "account_number": OLD_IBAN,
                "currency": "eur",
                "account_holder_name": "Brasserie du Port SAS",
            }
        },
    )
    return account["id"], old["id"]


async def test_payout_account_change_for_a_partner(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    account_id, old = partner(emulator, "partner1")
    found = await adapter.find_connected_account(AccountLookup(backoffice_id="partner1"))
    assert found is not None and found.legal_name == "Brasserie du Port SAS"
    assert found.trading_name == "Le Petit Port"
    bank = NewBankAccount(iban=IBAN, holder="BRASSERIE DU PORT S.A.S.", currency="EUR")
    added = await adapter.add_payout_account(account_id, bank, idempotency_key="p-1")
    again = await adapter.add_payout_account(account_id, bank, idempotency_key="p-1")
    assert added.id == again.id and added.masked == "FR****0189"
    await adapter.make_default_payout_account(account_id, added.id, idempotency_key="p-1")
    await adapter.remove_payout_account(account_id, old, idempotency_key="p-1")
    await adapter.remove_payout_account(account_id, old, idempotency_key="p-1")  # done already
    [only] = await adapter.list_payout_accounts(account_id)
    assert only.id == added.id and only.is_default and IBAN not in repr(only)


async def test_a_payout_account_must_be_in_the_legal_name(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    account_id, old = partner(emulator, "partner2")
    shop_name = NewBankAccount(iban=IBAN, holder="Le Petit Port", currency="EUR")
    with pytest.raises(BillingError) as refused:
        await adapter.add_payout_account(account_id, shop_name, idempotency_key="p-2")
    assert refused.value.code is ErrorCode.HOLDER_NOT_LEGAL_NAME
    assert "trading name" in refused.value.detail
    with pytest.raises(BillingError) as default:
        await adapter.remove_payout_account(account_id, old, idempotency_key="p-2")
    assert default.value.code is ErrorCode.PROVIDER_REJECTED
    assert len(await adapter.list_payout_accounts(account_id)) == 1


# -- Radar value lists --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item_type", "value"),
    [
        ("card_fingerprint", "Xt5EWLLDS7FJjR1c"),
        ("card_bin", "424242"),
        ("ip_address", "203.0.113.7"),
        ("email", "fraud@example.com"),
        ("sepa_debit_fingerprint", "a1b2c3d4e5f6a7b8"),
    ],
)
async def test_radar_lists_mirror_blocked_items(
    adapter: StripeAdapter, emulator: Emulator, item_type: BlockedItemType, value: str
) -> None:
    kind = item_type
    await adapter.add_blocked(kind, value, idempotency_key=f"block-{value}")
    await adapter.add_blocked(kind, value, idempotency_key=f"block-{value}")
    assert list(await adapter.blocked_values(kind)) == [value]
    lists = [v for v in emulator.account.all("radar.value_list") if v["item_type"] == item_type]
    assert len(lists) == 1 and lists[0]["alias"] == f"billing_gateway_block_{item_type}"
    await adapter.remove_blocked(kind, value)
    await adapter.remove_blocked(kind, value)
    assert list(await adapter.blocked_values(kind)) == []


async def test_a_partners_payouts_are_read_as_the_connected_account(
    adapter: StripeAdapter, emulator: Emulator
) -> None:
    account_id, bank = partner(emulator, "partner9")
    payout = emulator.face.connect.create_payout(account_id, 12_345, bank)
    emulator.face.connect.fail_payout(payout["id"])
    emulator.face.requests.clear()
    [seen] = await adapter.recent_payouts(account_id)
    assert (seen.id, seen.status, seen.failure_code) == (payout["id"], "failed", "account_closed")
    assert seen.amount == Money(12_345, "EUR") and seen.bank_account_id == bank
    [request] = emulator.face.requests
    assert request.stripe_account == account_id  # the Stripe-Account header
    assert not unknown_parameters(request.method, request.path, parameter_names(request.params))
