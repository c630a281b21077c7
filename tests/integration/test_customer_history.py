"""/v1/customers/{provider}/{ref}/invoices and /payments, and the invoice PDF and receipt
routes, against both providers' emulators seeded with the corrections demo's customers:
what a support tool picks a payment or invoice to correct from, masked, money exact."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from adapters.ports import Money
from gateway.providers import providers_from_settings
from settings import get_settings
from tests.database import auth

pytestmark = pytest.mark.usefixtures("provider_emulators")

# The seeded customers by provider: (account number or id, back-office id).
WRONG_PLAN_CARD = {
    "zuora": ("A-WRONG-CARD", "BO-WRONG-CARD"),
    "stripe": ("cus_wrong_plan_card", "BO-WRONG-CARD"),
}
WRONG_PLAN_INVOICED = {"zuora": "A-WRONG-INVOICED", "stripe": "cus_wrong_plan_invoiced"}
YEN = {"zuora": "A-YEN", "stripe": "cus_yen"}
DINAR = {"zuora": "A-DINAR", "stripe": "cus_dinar"}
PROVIDERS = ["zuora", "stripe"]


async def _get(http: httpx.AsyncClient, key: str, path: str, **params: Any) -> httpx.Response:
    return await http.get(path, headers=auth(key), params=params, timeout=20)


async def _listed(http: httpx.AsyncClient, key: str, provider: str, ref: str, what: str) -> Any:
    answer = await _get(http, key, f"/v1/customers/{provider}/{ref}/{what}")
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_card_customers_paid_invoice_and_payment(
    http: httpx.AsyncClient, api_key: str, provider: str
) -> None:
    number = WRONG_PLAN_CARD[provider][0]
    invoices = await _listed(http, api_key, provider, number, "invoices")
    payments = await _listed(http, api_key, provider, number, "payments")
    assert invoices["customer"]["name"] == "Wrong Plan Card SARL"
    [invoice] = invoices["invoices"]
    eur_49 = {"amount_minor": 4900, "currency": "EUR", "display": "49.00 EUR"}
    assert (invoice["status"], invoice["total"]) == ("paid", eur_49)
    assert invoice["balance"]["amount_minor"] == 0
    assert invoice["pdf"] == f"/v1/invoices/{provider}/{invoice['id']}/pdf"
    [payment] = payments["payments"]
    assert (payment["status"], payment["amount"], payment["refundable"]) == (
        "succeeded",
        eur_49,
        eur_49,
    )
    assert payment["refunded"]["amount_minor"] == 0 and payment["refunds"] == []
    assert payment["invoice_ids"] == [invoice["id"]] and invoice["payment_ids"] == [payment["id"]]
    assert payment["method_masked"] and "4242" in payment["method_masked"]
    assert "4242424242424242" not in str(payments)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_customer_by_back_office_id_is_the_same_customer(
    http: httpx.AsyncClient, api_key: str, provider: str
) -> None:
    number, backoffice_id = WRONG_PLAN_CARD[provider]
    by_number = await _listed(http, api_key, provider, number, "payments")
    by_backoffice_id = await _listed(http, api_key, provider, backoffice_id, "payments")
    assert by_number == by_backoffice_id


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_an_open_invoice_shows_what_is_still_due(
    http: httpx.AsyncClient, api_key: str, provider: str
) -> None:
    listed = await _listed(http, api_key, provider, WRONG_PLAN_INVOICED[provider], "invoices")
    [invoice] = listed["invoices"]
    assert invoice["status"] == "open" and invoice["payment_ids"] == []
    assert invoice["balance"] == {"amount_minor": 12000, "currency": "EUR", "display": "120.00 EUR"}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_money_is_exact_in_yen_and_dinars(
    http: httpx.AsyncClient, api_key: str, provider: str
) -> None:
    [yen] = (await _listed(http, api_key, provider, YEN[provider], "payments"))["payments"]
    [dinar] = (await _listed(http, api_key, provider, DINAR[provider], "payments"))["payments"]
    assert yen["amount"] == {"amount_minor": 15000, "currency": "JPY", "display": "15000 JPY"}
    # Stripe takes dinars in steps of 0.010 only, so its dinar customer paid 12.340 KWD.
    minor, shown = (12345, "12.345 KWD") if provider == "zuora" else (12340, "12.340 KWD")
    assert dinar["amount"] == {"amount_minor": minor, "currency": "KWD", "display": shown}
    [dinar_invoice] = (await _listed(http, api_key, provider, DINAR[provider], "invoices"))[
        "invoices"
    ]
    assert dinar_invoice["total"]["amount_minor"] == minor


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_partial_refund_shows_under_its_payment_with_what_is_left(
    http: httpx.AsyncClient, api_key: str, provider: str
) -> None:
    number = WRONG_PLAN_CARD[provider][0]
    [payment] = (await _listed(http, api_key, provider, number, "payments"))["payments"]
    adapter = providers_from_settings(get_settings()).get(provider)
    assert adapter is not None
    try:
        await adapter.refund_payment(
            payment["id"], Money(1000, "EUR"), idempotency_key=f"test-history-{provider}"
        )
    finally:
        await adapter.close()
    [after] = (await _listed(http, api_key, provider, number, "payments"))["payments"]
    assert after["refunded"]["amount_minor"] == 1000
    assert after["refundable"] == {"amount_minor": 3900, "currency": "EUR", "display": "39.00 EUR"}
    [refund] = after["refunds"]
    assert refund["amount"]["amount_minor"] == 1000


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_invoice_pdf_downloads_named_after_its_number(
    http: httpx.AsyncClient, api_key: str, provider: str
) -> None:
    number = WRONG_PLAN_CARD[provider][0]
    [invoice] = (await _listed(http, api_key, provider, number, "invoices"))["invoices"]
    pdf = await _get(http, api_key, invoice["pdf"])
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert invoice["number"] and invoice["number"] in pdf.headers["content-disposition"]
    assert pdf.headers["content-disposition"].startswith("attachment;")


async def test_a_stripe_card_payment_has_a_receipt(http: httpx.AsyncClient, api_key: str) -> None:
    [payment] = (await _listed(http, api_key, "stripe", "cus_wrong_plan_card", "payments"))[
        "payments"
    ]
    assert payment["receipt"] == f"/v1/payments/stripe/{payment['id']}/receipt"
    receipt = await _get(http, api_key, payment["receipt"])
    assert receipt.status_code == 200, receipt.text
    assert receipt.headers["content-type"] == "text/html; charset=utf-8"
    assert "49.00" in receipt.text and "4242" in receipt.text
    assert receipt.headers["content-disposition"].startswith("attachment;")


async def test_a_zuora_payment_has_no_receipt_send_the_invoice(
    http: httpx.AsyncClient, api_key: str
) -> None:
    [payment] = (await _listed(http, api_key, "zuora", "A-WRONG-CARD", "payments"))["payments"]
    assert payment["receipt"] is None
    answer = await _get(http, api_key, f"/v1/payments/zuora/{payment['id']}/receipt")
    assert (answer.status_code, answer.json()["code"]) == (404, "no_receipt")
    assert answer.json()["detail"] == (
        "Zuora keeps no receipt for a payment; send the invoice PDF instead."
    )


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_unknown_customer_invoice_and_provider(
    http: httpx.AsyncClient, api_key: str, provider: str
) -> None:
    for what in ("invoices", "payments"):
        missing = await _get(http, api_key, f"/v1/customers/{provider}/A-NOBODY-9/{what}")
        assert (missing.status_code, missing.json()["code"]) == (404, "customer_not_found")
    no_invoice = await _get(http, api_key, f"/v1/invoices/{provider}/in_nothing_here/pdf")
    assert no_invoice.status_code == 404, no_invoice.text
    other = await _get(http, api_key, "/v1/customers/chargebee/A-WRONG-CARD/invoices")
    assert (other.status_code, other.json()["code"]) == (404, "provider_not_configured")
    too_many = await _get(http, api_key, f"/v1/customers/{provider}/A-YEN/payments", limit=101)
    assert too_many.status_code == 400


async def test_capabilities_say_what_each_provider_does(
    http: httpx.AsyncClient, api_key: str
) -> None:
    answer = await _get(http, api_key, "/v1/capabilities")
    by_provider = {p["provider"]: set(p["capabilities"]) for p in answer.json()["providers"]}
    corrections = {"refunds", "invoice_voiding", "invoice_pdfs", "billing_history"}
    assert by_provider["stripe"] >= corrections | {"receipts"}
    assert by_provider["zuora"] >= corrections
    assert "receipts" not in by_provider["zuora"]  # Zuora keeps none: the invoice PDF instead
