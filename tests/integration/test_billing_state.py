"""/v1/capabilities and /v1/customers/zuora/{ref} on the real server, in sandbox: the server
serves its own Zuora emulator seeded with the demo customers, and answers through the adapter
over loopback HTTP. Masked data only."""

from __future__ import annotations

import httpx

from tests.database import LiveServer, auth, issue_test_key


async def test_capabilities_name_the_configured_provider(
    live_server: LiveServer, api_key: str
) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        answer = await client.get("/v1/capabilities", headers=auth(api_key))
    assert answer.status_code == 200, answer.text
    stripe, zuora = answer.json()["providers"]
    assert zuora["provider"] == "zuora" and zuora["transport"] == "soap" and zuora["sandbox"]
    assert set(zuora["capabilities"]) >= {"payment_methods", "subscriptions", "refunds"}
    assert stripe["provider"] == "stripe" and {"accounts", "payment_methods"} <= set(
        stripe["capabilities"]
    )


async def test_a_demo_customers_billing_state_masked(live_server: LiveServer, api_key: str) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as client:
        answer = await client.get("/v1/customers/zuora/A00000101", headers=auth(api_key))
    assert answer.status_code == 200, answer.text
    state = answer.json()
    assert state["account"]["number"] == "A00000101"
    assert state["account"]["name"] == "Atelier Lumière SARL"
    [method] = state["payment_methods"]
    assert method["masked"] == "FR****2606" and method["is_default"] and method["active"]
    assert "FR1420041010050500013M02606" not in answer.text
    [charge] = state["subscription"]["charges"]
    assert charge["quantity"] == 3 and charge["unit_price"] == {
        "amount_minor": 2900,
        "currency": "EUR",
    }
    assert state["subscription"]["next_billing_day"].endswith("-05")
    # A00000101 is the customer an IBAN change can be applied to: nothing is being collected.
    assert state["collections_in_flight"] == []
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as client:
        brasserie = await client.get("/v1/customers/zuora/A00000102", headers=auth(api_key))
    [debit] = brasserie.json()["collections_in_flight"]  # the demo's debit in flight
    assert debit["amount"] == {"amount_minor": 2900, "currency": "EUR"}


async def test_unknown_customer_and_provider_and_missing_scope(
    live_server: LiveServer, api_key: str
) -> None:
    reader = await issue_test_key(["change-requests:read"])
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as client:
        missing = await client.get("/v1/customers/zuora/A09999999", headers=auth(api_key))
        other = await client.get("/v1/customers/chargebee/A00000101", headers=auth(api_key))
        forbidden = await client.get("/v1/customers/zuora/A00000101", headers=auth(reader))
    assert (missing.status_code, missing.json()["code"]) == (404, "customer_not_found")
    assert (other.status_code, other.json()["code"]) == (404, "provider_not_configured")
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden")


async def test_a_demo_stripe_customer_by_id_and_by_back_office_id(
    live_server: LiveServer, api_key: str
) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as client:
        # (Brasserie: other tests change Atelier's methods on this server's emulator)
        by_id = await client.get("/v1/customers/stripe/cus_DemoBrasserie2", headers=auth(api_key))
        by_shop = await client.get("/v1/customers/stripe/shop-102", headers=auth(api_key))
    assert by_id.status_code == 200, by_id.text
    assert by_id.json() == by_shop.json()
    [method] = by_id.json()["payment_methods"]
    assert method["masked"] == "DE****3000" and method["is_default"]
    # the demo upsell's subscription (one seat: solo) and its SEPA debit in flight
    [seats] = by_id.json()["subscription"]["charges"]
    assert seats["quantity"] == 1 and seats["unit_price"]["amount_minor"] == 2900
    [debit] = by_id.json()["collections_in_flight"]
    assert debit["amount"] == {"amount_minor": 2900, "currency": "EUR"}
