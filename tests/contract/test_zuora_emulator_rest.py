"""The emulator's REST face over loopback HTTP with a plain client: OAuth, Zuora's answer
shapes, its rules (shared with the SOAP face), idempotency keys and paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from adapters.zuora.emulator.app import create_emulator
from adapters.zuora.emulator.seed import Customer, add_customer
from adapters.zuora.emulator.state import Tenant
from tests.emulators import serve


@pytest.fixture(scope="module")
def tenant() -> Tenant:
    return Tenant()


@pytest.fixture(scope="module")
def zuora(tenant: Tenant) -> Iterator[httpx.Client]:
    with serve(create_emulator(tenant)) as base:
        token = httpx.post(
            f"{base}/oauth/token",
            data={
                "client_id": tenant.client_id,
                "client_secret": tenant.client_secret,
                "grant_type": "client_credentials",
            },
        ).json()
        assert token["token_type"] == "bearer" and token["expires_in"] > 0
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        with httpx.Client(base_url=base, headers=headers) as client:
            yield client


@pytest.fixture
def customer(tenant: Tenant) -> Customer:
    number = f"R{len(tenant.objects['Account']) + 1:08d}"
    return add_customer(
        tenant, account_number=number, name="Estudio Sol SL", iban="ES9121000418450200051332"
    )


def sepa(customer: Customer, mandate: str) -> dict[str, Any]:
    return {
        "accountKey": customer.account_number,
        "type": "SEPA",
        "IBAN": "FR7630006000011234567890189",
        "accountHolderInfo": {"accountHolderName": "Estudio Sol SL"},
        "mandateInfo": {"mandateId": mandate},
    }


def test_wrong_client_credentials_and_tokens_are_refused(
    tenant: Tenant, zuora: httpx.Client
) -> None:
    bad = httpx.post(
        f"{zuora.base_url}/oauth/token",
        data={"client_id": "x", "client_secret": "y", "grant_type": "client_credentials"},
    )
    assert bad.status_code == 401
    answer = httpx.get(f"{zuora.base_url}/v1/accounts/A1", headers={"Authorization": "Bearer no"})
    assert answer.status_code == 401 and answer.json()["reasons"][0]["code"] % 100 == 11


def test_an_idempotency_key_replays_the_first_answer(
    tenant: Tenant, zuora: httpx.Client, customer: Customer
) -> None:
    headers = {"Idempotency-Key": f"k-{customer.account_id}"}
    first = zuora.post("/v1/payment-methods", json=sepa(customer, "M-1"), headers=headers)
    again = zuora.post("/v1/payment-methods", json=sepa(customer, "M-1"), headers=headers)
    assert first.json()["success"] and first.json() == again.json()
    other = zuora.post("/v1/payment-methods", json=sepa(customer, "M-2"), headers=headers)
    assert other.status_code == 422 and not other.json()["success"]
    mine = [
        m for m in tenant.objects["PaymentMethod"].values() if m["AccountId"] == customer.account_id
    ]
    assert len(mine) == 2  # the seeded one and one new


def test_the_default_cannot_be_deleted_and_http_200_is_not_success(
    zuora: httpx.Client, customer: Customer
) -> None:
    answer = zuora.delete(f"/v1/payment-methods/{customer.payment_method_id}")
    assert answer.status_code == 200 and answer.json()["success"] is False
    assert answer.json()["reasons"][0]["code"] % 100 == 30
    methods = zuora.get(f"/v1/accounts/{customer.account_number}/payment-methods").json()
    [method] = methods["banktransfer"]
    assert method["status"] == "Active" and method["IBAN"].endswith("1332")
    assert "ES9121000418450200051332" not in str(methods)


def test_payments_come_in_pages(tenant: Tenant, zuora: httpx.Client, customer: Customer) -> None:
    for _ in range(4):  # and the seeded one: 5
        tenant.create(
            "Payment", {"AccountId": customer.account_id, "Amount": "1", "Status": "Processed"}
        )
    first = zuora.get(
        "/v1/payments", params={"accountId": customer.account_id, "pageSize": 3}
    ).json()
    assert len(first["payments"]) == 3 and first["nextPage"]
    rest = zuora.get(first["nextPage"]).json()
    assert len(rest["payments"]) == 2 and "nextPage" not in rest


def test_a_sepa_create_with_a_field_zuoras_model_lacks_is_refused(
    tenant: Tenant, zuora: httpx.Client, customer: Customer
) -> None:
    """Zuora's SEPA model has no mandate date or status: a tenant drops them silently, the
    emulator refuses them with Zuora's unknown-field category (21), naming the field."""
    body = sepa(customer, "M-DATE")
    body["mandateInfo"]["mandateCreationDate"] = "2026-11-23"
    answer = zuora.post("/v1/payment-methods", json=body)
    assert answer.status_code == 400 and answer.json()["success"] is False
    [reason] = answer.json()["reasons"]
    assert reason["code"] % 100 == 21 and "mandateInfo.mandateCreationDate" in reason["message"]
    assert not [m for m in tenant.objects["PaymentMethod"].values() if m["MandateID"] == "M-DATE"]


def rate_plan_id(zuora: httpx.Client, customer: Customer) -> str:
    subscription = zuora.get(f"/v1/subscriptions/{customer.subscription_number}").json()
    return str(subscription["ratePlans"][0]["id"])


def update_product(customer: Customer, update: dict[str, Any]) -> dict[str, Any]:
    return {
        "orderDate": "2030-01-05",
        "existingAccountNumber": customer.account_number,
        "subscriptions": [
            {
                "subscriptionNumber": customer.subscription_number,
                "orderActions": [
                    {
                        "type": "UpdateProduct",
                        "triggerDates": [
                            {"name": "ContractEffective", "triggerDate": "2030-01-05"}
                        ],
                        "updateProduct": update,
                    }
                ],
            }
        ],
    }


def test_an_update_product_that_names_no_rate_plan_is_refused(
    zuora: httpx.Client, customer: Customer
) -> None:
    charges = [
        {"chargeNumber": customer.charge_number, "pricing": {"recurringPerUnit": {"quantity": 9}}}
    ]
    unnamed = zuora.post(
        "/v1/orders/preview", json=update_product(customer, {"chargeUpdates": charges})
    )
    assert unnamed.status_code == 400 and unnamed.json()["reasons"][0]["code"] % 100 == 22
    other = {"ratePlanId": "2c92c0f8deadbeef", "chargeUpdates": charges}
    wrong = zuora.post("/v1/orders", json=update_product(customer, other))
    assert wrong.status_code == 400 and wrong.json()["reasons"][0]["code"] % 100 == 20
    named = {"ratePlanId": rate_plan_id(zuora, customer), "chargeUpdates": charges}
    previewed = update_product(customer, named)
    previewed["processingOptions"] = {"runBilling": False}  # an order's, not a preview's
    refused = zuora.post("/v1/orders/preview", json=previewed)
    assert refused.status_code == 400 and refused.json()["reasons"][0]["code"] % 100 == 21
    subscription = zuora.get(f"/v1/subscriptions/{customer.subscription_number}").json()
    assert subscription["version"] == 1


def test_an_order_makes_a_new_version_and_its_number_is_unique(
    zuora: httpx.Client, customer: Customer
) -> None:
    order = {
        "orderNumber": f"O-{customer.account_id[:8]}",
        "orderDate": "2030-01-05",
        "existingAccountNumber": customer.account_number,
        "subscriptions": [
            {
                "subscriptionNumber": customer.subscription_number,
                "orderActions": [
                    {
                        "type": "UpdateProduct",
                        "triggerDates": [
                            {"name": "ContractEffective", "triggerDate": "2030-01-05"}
                        ],
                        "updateProduct": {
                            "ratePlanId": rate_plan_id(zuora, customer),
                            "chargeUpdates": [
                                {
                                    "chargeNumber": customer.charge_number,
                                    "pricing": {"recurringPerUnit": {"quantity": 7}},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    preview = zuora.post("/v1/orders/preview", json=order).json()
    assert preview["previewResult"]["invoices"][0]["amount"] == 7 * 29.0
    placed = zuora.post("/v1/orders", json=order).json()
    assert placed["success"] and placed["status"] == "Completed"
    subscription = zuora.get(f"/v1/subscriptions/{customer.subscription_number}").json()
    assert subscription["version"] == 2
    assert subscription["ratePlans"][0]["ratePlanCharges"][0]["quantity"] == 7
    again = zuora.post("/v1/orders", json=order).json()
    assert again["success"] is False
    assert zuora.get(f"/v1/orders/{order['orderNumber']}").json()["order"]["status"] == "Completed"


def test_invoice_files_lead_to_the_pdf(zuora: httpx.Client, customer: Customer) -> None:
    files = zuora.get(f"/v1/invoices/{customer.invoice_id}/files").json()["invoiceFiles"]
    pdf = zuora.get(files[0]["pdfFileUrl"])
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
