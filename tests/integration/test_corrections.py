"""Corrections end to end, on both providers: the API over real PostgreSQL, the Zuora and Stripe
emulators over loopback HTTP (their demo customers `wrong_plan_card`, `wrong_plan_invoiced`,
`prepaid_package`, `big_refund`, `yen_customer`, `dinar_customer`), and the worker's part
(`CorrectionService.advance`) run by the test where the job queue would run it. What the
provider holds afterwards is read through the gateway's own adapters."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from adapters.ports import Invoice, Payment, Subscription
from gateway.billing.customers import find_customer
from gateway.core.errors import BillingError, ErrorCode
from gateway.corrections.schemas import RefundCreate
from gateway.corrections.service import CorrectionService, Requester
from gateway.providers import Providers, providers_from_settings
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import get_settings
from tests.database import auth

LEE = StaffMember(id=9101, username="lee", role=Role.TEAM_LEAD)
LOU = StaffMember(id=9102, username="lou", role=Role.TEAM_LEAD)
PROVIDERS = ("zuora", "stripe")
CUSTOMERS = {
    "zuora": {
        "card": "A-WRONG-CARD",
        "invoiced": "A-WRONG-INVOICED",
        "prepaid": "A-PREPAID",
        "big": "A-BIG-REFUND",
        "yen": "A-YEN",
        "dinar": "A-DINAR",
    },
    "stripe": {
        "card": "cus_wrong_plan_card",
        "invoiced": "cus_wrong_plan_invoiced",
        "prepaid": "cus_prepaid_package",
        "big": "cus_big_refund",
        "yen": "cus_yen",
        "dinar": "cus_dinar",
    },
}


@pytest.fixture
async def adapters(provider_emulators: None) -> AsyncIterator[Providers]:
    built = providers_from_settings(get_settings())
    yield built
    await built.close()


@pytest.fixture
def corrections(app: Any) -> CorrectionService:
    from gateway.corrections.wiring import correction_service

    return correction_service()


class Customer:
    """One demo customer at one provider, read fresh each time."""

    def __init__(self, adapters: Providers, provider: str, name: str) -> None:
        self.adapter: Any = adapters.get(provider)
        self.provider = provider
        self.reference = CUSTOMERS[provider][name]

    async def account_id(self) -> str:
        return (await find_customer(self.adapter, self.provider, self.reference)).id

    async def payments(self) -> list[Payment]:
        return list(await self.adapter.list_payments(await self.account_id()))

    async def invoices(self) -> list[Invoice]:
        return list(await self.adapter.list_invoices(await self.account_id()))

    async def subscription(self) -> Subscription:
        [found] = await self.adapter.list_subscriptions(await self.account_id())
        assert isinstance(found, Subscription)
        return found

    async def payment(self) -> Payment:
        [paid] = [p for p in await self.payments() if p.status == "succeeded"]
        return paid


async def post(
    http: httpx.AsyncClient, key: str, path: str, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await http.post(
        path, json=body, headers={**auth(key, headers.pop("idem", uuid.uuid4().hex)), **headers}
    )


async def refund(
    http: httpx.AsyncClient, key: str, provider: str, payment_id: str, amount: int | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"provider": provider, "payment_id": payment_id, "reason": "goodwill"}
    if amount is not None:
        body["amount_minor"] = amount
    return await post(http, key, "/v1/refunds", body)


async def run(corrections: CorrectionService, answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 202, answer.text
    correction_id = uuid.UUID(answer.json()["id"])
    await corrections.advance(correction_id)
    return dict(msgspec.to_builtins(await corrections.read(correction_id)))


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_wrong_plan_card_subscription_is_cancelled_and_refunded_in_one_call(
    http: httpx.AsyncClient,
    api_key: str,
    adapters: Providers,
    corrections: CorrectionService,
    provider: str,
) -> None:
    customer = Customer(adapters, provider, "card")
    subscription = await customer.subscription()
    paid = await customer.payment()
    answer = await post(
        http,
        api_key,
        f"/v1/subscriptions/{provider}/{subscription.id}/cancel",
        {
            "when": "now",
            "then": "refund_last_payment",
            "reason": "created on the wrong plan",
            "ticket": "zendesk #1001",
            "customer": customer.reference,
        },
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "running"
    assert [s["operation"] for s in answer.json()["payload"]] == [
        "cancel_subscription",
        "refund_payment",
    ]
    # one ticket format: filed as "zendesk #1001", stored and found as zendesk:1001
    assert answer.json()["ticket"] == "zendesk:1001"
    assert answer.json()["ticket_display"] == "zendesk #1001"
    full_width = "\uff5a\uff45\uff4e\uff44\uff45\uff53\uff4b \uff03\uff11\uff10\uff10\uff11"
    for typed in ("zendesk:1001", "Zendesk 1001", full_width, "1001"):
        found = await http.get("/v1/corrections", params={"ticket": typed}, headers=auth(api_key))
        assert [item["id"] for item in found.json()["items"]] == [answer.json()["id"]], typed
    done = await run(corrections, answer)
    assert done["status"] == "succeeded", done
    assert (await customer.subscription()).status.lower() in ("canceled", "cancelled")
    after = await customer.payment()
    assert after.refunded == paid.amount  # all of it, once
    assert after.refundable.amount_minor == 0


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_wrong_plan_invoiced_subscription_is_cancelled_and_its_invoice_voided(
    http: httpx.AsyncClient,
    api_key: str,
    adapters: Providers,
    corrections: CorrectionService,
    provider: str,
) -> None:
    customer = Customer(adapters, provider, "invoiced")
    subscription = await customer.subscription()
    [open_invoice] = [i for i in await customer.invoices() if i.status == "open"]
    answer = await post(
        http,
        api_key,
        f"/v1/subscriptions/{provider}/{subscription.id}/cancel",
        {"then": "void_open_invoice", "reason": "wrong plan", "customer": customer.reference},
    )
    done = await run(corrections, answer)
    assert done["status"] == "succeeded", done
    assert done["payload"][1]["inputs"]["invoice_id"] == open_invoice.id
    voided = {i.id: i.status for i in await customer.invoices()}
    assert voided[open_invoice.id] == "void"
    assert (await customer.subscription()).status.lower() in ("canceled", "cancelled")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_partial_refund_then_an_over_refund_refused_naming_what_is_left(
    http: httpx.AsyncClient,
    api_key: str,
    adapters: Providers,
    corrections: CorrectionService,
    provider: str,
) -> None:
    customer = Customer(adapters, provider, "card")
    paid = await customer.payment()
    done = await run(corrections, await refund(http, api_key, provider, paid.id, 1_000))
    assert done["status"] == "succeeded", done
    assert (await customer.payment()).refunded.amount_minor == 1_000

    over = await refund(http, api_key, provider, paid.id, 4_000)
    assert over.status_code == 422, over.text
    assert over.json()["code"] == "refund_exceeds_payment"
    assert "39.00 EUR" in over.json()["detail"]
    assert over.json()["refundable"] == {"amount_minor": 3_900, "currency": "EUR"}
    assert (await customer.payment()).refunded.amount_minor == 1_000


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_refund_above_the_threshold_waits_for_another_lead(
    http: httpx.AsyncClient,
    api_key: str,
    adapters: Providers,
    corrections: CorrectionService,
    provider: str,
) -> None:
    customer = Customer(adapters, provider, "big")
    paid = await customer.payment()
    # filed by a team lead in the back office: the maker
    filed = await corrections.file(
        RefundCreate(provider=provider, payment_id=paid.id, reason="duplicate"),  # type: ignore[arg-type]
        Requester.of_staff(LEE),
    )
    assert filed.status == "awaiting_approval"
    assert "1000.00 EUR" in filed.approval.rule
    assert await corrections.advance(filed.id) == "awaiting_approval"
    with pytest.raises(BillingError) as maker:
        await corrections.approve(filed.id, LEE, filed.payload_hash)
    assert maker.value.code is ErrorCode.MAKER_CANNOT_APPROVE
    with pytest.raises(BillingError) as other_payload:
        await corrections.approve(filed.id, LOU, "f" * 64)
    assert other_payload.value.code is ErrorCode.PAYLOAD_CHANGED
    assert (await customer.payment()).refunded.amount_minor == 0

    shown = await http.get(f"/v1/corrections/{filed.id}", headers=auth(api_key))
    assert shown.json()["payload_hash"] == filed.payload_hash
    approved = await corrections.approve(filed.id, LOU, shown.json()["payload_hash"])
    assert approved.status == "running"
    assert await corrections.advance(filed.id) == "succeeded"
    assert (await customer.payment()).refunded == paid.amount


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_an_api_refund_above_the_threshold_answers_awaiting_approval(
    http: httpx.AsyncClient, api_key: str, adapters: Providers, provider: str
) -> None:
    customer = Customer(adapters, provider, "big")
    answer = await refund(http, api_key, provider, (await customer.payment()).id)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "awaiting_approval" and body["approval"]["required"]
    listed = await http.get("/v1/corrections?status=awaiting_approval", headers=auth(api_key))
    assert [c["id"] for c in listed.json()["items"]] == [body["id"]]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_prepaid_package_cancelled_refunds_the_unused_value_minus_30_percent(
    http: httpx.AsyncClient,
    api_key: str,
    adapters: Providers,
    corrections: CorrectionService,
    provider: str,
) -> None:
    customer = Customer(adapters, provider, "prepaid")
    subscription = await customer.subscription()
    assert subscription.prepaid
    answer = await post(
        http,
        api_key,
        f"/v1/subscriptions/{provider}/{subscription.id}/cancel",
        {
            "then": "refund_remaining",
            "reason": "cancelled after paying",
            "customer": customer.reference,
        },
    )
    assert answer.status_code == 202, answer.text
    computation = answer.json()["computation"]
    days_total = (subscription.current_period_end - subscription.current_period_start).days  # type: ignore[operator]
    assert computation["days_total"] == days_total == 365
    assert computation["days_unused"] == 274
    assert computation["payment_amount"] == {"amount_minor": 120_000, "currency": "EUR"}
    assert computation["unused_value"]["amount_minor"] == 90_082  # 1200.00 * 274 / 365
    assert computation["fee_percent"] == "30"
    assert computation["fee"]["amount_minor"] == 27_025
    assert computation["refund"]["amount_minor"] == 63_057
    done = await run(corrections, answer)
    assert done["status"] == "succeeded", done
    assert (await customer.payment()).refunded.amount_minor == 63_057


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_repeated_post_with_one_key_answers_the_same_and_refunds_once(
    http: httpx.AsyncClient,
    api_key: str,
    adapters: Providers,
    corrections: CorrectionService,
    provider: str,
) -> None:
    customer = Customer(adapters, provider, "card")
    paid = await customer.payment()
    body = {"provider": provider, "payment_id": paid.id, "amount_minor": 700, "reason": "x"}
    first = await post(http, api_key, "/v1/refunds", body, idem="one-refund")
    await corrections.advance(uuid.UUID(first.json()["id"]))
    again = await post(http, api_key, "/v1/refunds", body, idem="one-refund")
    assert (again.status_code, again.content) == (first.status_code, first.content)
    listed = await http.get("/v1/corrections", headers=auth(api_key))
    assert len(listed.json()["items"]) == 1
    assert (await customer.payment()).refunded.amount_minor == 700


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("name", ["yen", "dinar"])
async def test_a_full_refund_in_yen_and_in_dinar_is_exact(
    http: httpx.AsyncClient,
    api_key: str,
    adapters: Providers,
    corrections: CorrectionService,
    provider: str,
    name: str,
) -> None:
    # Stripe takes dinars in steps of 0.010 only, so its dinar customer paid 12.340 KWD.
    amount = {"yen": 15_000, "dinar": 12_345 if provider == "zuora" else 12_340}[name]
    customer = Customer(adapters, provider, name)
    paid = await customer.payment()
    assert paid.amount.amount_minor == amount
    done = await run(corrections, await refund(http, api_key, provider, paid.id))
    assert done["status"] == "succeeded", done
    assert done["steps"][0]["result"]["amount"]["amount_minor"] == amount
    assert (await customer.payment()).refunded == paid.amount


async def test_prefer_wait_answers_the_final_state(
    http: httpx.AsyncClient, api_key: str, adapters: Providers, corrections: CorrectionService
) -> None:
    customer = Customer(adapters, "stripe", "card")
    paid = await customer.payment()

    async def worker() -> None:  # the job queue's part, as soon as the correction exists
        for _ in range(100):
            listed = await corrections.list()
            if listed.items:
                await corrections.advance(listed.items[0].id)
                return
            await asyncio.sleep(0.05)

    body = {"provider": "stripe", "payment_id": paid.id, "amount_minor": 100, "reason": "x"}
    answer, _ = await asyncio.gather(
        post(http, api_key, "/v1/refunds", body, idem="waited", Prefer="wait=10"), worker()
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "succeeded"
    assert answer.headers["preference-applied"] == "wait=10"
    # what was answered is what the key keeps
    again = await post(http, api_key, "/v1/refunds", body, idem="waited")
    assert again.content == answer.content
    assert (await customer.payment()).refunded.amount_minor == 100


async def test_the_scopes_guard_corrections(http: httpx.AsyncClient) -> None:
    from tests.database import issue_test_key

    reader = await issue_test_key(["billing:read"])
    refused = await post(
        http, reader, "/v1/refunds", {"provider": "stripe", "payment_id": "pi_x", "reason": "x"}
    )
    assert refused.status_code == 403 and refused.json()["required_scope"] == "billing:write"
    assert (await http.get("/v1/corrections", headers=auth(reader))).status_code == 200


async def test_stripes_news_of_a_refund_is_kept_on_its_correction(
    http: httpx.AsyncClient, api_key: str, adapters: Providers, corrections: CorrectionService
) -> None:
    import json
    import time

    from adapters.stripe.emulator.signing import sign
    from gateway.core.db.connection import fetch
    from gateway.webhooks.processing import process_event

    customer = Customer(adapters, "stripe", "card")
    paid = await customer.payment()
    done = await run(corrections, await refund(http, api_key, "stripe", paid.id, 500))
    refund_id = done["steps"][0]["result"]["refund_id"]
    charge = {
        "id": "ch_news",
        "object": "charge",
        "payment_intent": paid.id,
        "status": "succeeded",
        "amount_refunded": 500,
        "currency": "eur",
    }
    refunded = {"id": refund_id, "object": "refund", "status": "succeeded", "amount": 500}
    for event_id, kind, data in (
        ("evt_charge_refunded", "charge.refunded", charge),
        ("evt_refund_updated", "refund.updated", refunded),
    ):
        body = json.dumps(
            {
                "id": event_id,
                "object": "event",
                "type": kind,
                "created": int(time.time()),
                "livemode": False,
                "data": {"object": data},
            }
        ).encode()
        answer = await http.post(
            "/v1/webhooks/stripe",
            content=body,
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": sign(body, "whsec_emulator"),
            },
        )
        assert answer.status_code == 200, answer.text
        [row] = await fetch("SELECT id FROM webhook_events WHERE event_id = $1", event_id)
        assert await process_event(row["id"], None) == "recorded_on_correction"
    events = (await corrections.read(uuid.UUID(done["id"]))).provider_events
    assert [e["event"] for e in events] == ["charge.refunded", "refund.updated"]
    assert events[0]["amount_refunded"] == 500 and events[0]["currency"] == "EUR"


async def test_a_provider_that_cannot_be_read_refuses_the_filing_with_retry_after(
    http: httpx.AsyncClient, api_key: str
) -> None:
    # no emulator serves the sandbox's Stripe here: nothing can be read, nothing is stored
    answer = await refund(http, api_key, "stripe", "pi_unreachable", 100)
    assert answer.status_code == 503, answer.text
    assert answer.json()["code"] == "provider_unavailable"
    assert int(answer.headers["retry-after"]) > 0
    listed = await http.get("/v1/corrections", headers=auth(api_key))
    assert listed.json()["items"] == []
