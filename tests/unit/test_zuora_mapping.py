"""Zuora's answers to neutral values, on canned bodies shaped like Zuora's documented ones:
masked data only, money in minor units, charges named by their stable number."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import httpx
import pytest

from adapters.ports import Money
from adapters.zuora.adapter import marker_of
from adapters.zuora.emulator.rest_shapes import as_json, money
from adapters.zuora.mapping import (
    from_zuora_charge,
    from_zuora_payment,
    from_zuora_payment_method,
    from_zuora_refund,
    monthly_total,
)
from adapters.zuora.pricing import monthly_minor, priced, rest_pricing
from adapters.zuora.rest_mapping import from_rest_payment_method, from_rest_subscription
from adapters.zuora.rest_session import RestConfig, ZuoraRest

REST_BANK_TRANSFER = {
    "id": "2c92c0f86f0d43b6016f0e5c9a3a5f2b",
    "type": "BankTransfer",
    "bankTransferType": "SEPA",
    "status": "Active",
    "isDefault": True,
    "IBAN": "*****************3000",
    "businessIdentificationCode": "COBADEFFXXX",
    "accountHolderInfo": {"accountHolderName": "Max Muster", "country": "DE"},
    "mandateInfo": {"mandateId": "M-1", "mandateReceivedStatus": "true"},
    "createdDate": "2024-01-02 10:11:12",
}

REST_SUBSCRIPTION = {
    "id": "8a8aa1b87d2c0e6a017d2c2d3c4c0001",
    "subscriptionNumber": "A-S00000181",
    "accountId": "8a8aa1b87d2c0e6a017d2c2d3c4c0000",
    "status": "Active",
    "version": 3,
    "currency": "EUR",
    "ratePlans": [
        {
            "id": "f94fb524",
            "ratePlanName": "Seats",
            "ratePlanCharges": [
                {
                    "id": "c1",
                    "number": "C-00000595",
                    "name": "Seat",
                    "type": "Recurring",
                    "quantity": 4.0,
                    "price": 49.9,
                    "billingPeriod": "Month",
                    "effectiveStartDate": "2024-05-15",
                },
                {"id": "c2", "number": "C-00000596", "name": "Setup", "type": "OneTime"},
            ],
        }
    ],
}


def test_a_rest_sepa_method_is_masked_to_country_and_last_four() -> None:
    method = from_rest_payment_method(REST_BANK_TRANSFER, "2c92c0f86f0d43b6016f0e5c9a3a5f2b")
    assert method.kind == "sepa_debit" and method.masked == "DE****3000"
    assert method.is_default and method.active and method.mandate_id == "M-1"
    assert method.created_at is not None and method.created_at.year == 2024


def test_a_rest_subscription_keeps_recurring_charges_by_number() -> None:
    subscription = from_rest_subscription(REST_SUBSCRIPTION)
    assert (subscription.id, subscription.version) == ("A-S00000181", 3)
    [seat] = subscription.charges
    assert seat.id == "C-00000595" and seat.quantity == 4
    assert seat.unit_price == Money(4990, "EUR") and seat.effective_from == date(2024, 5, 15)
    assert monthly_total(subscription.charges) == 4 * 4990


def test_soap_records_map_the_same_way() -> None:
    record = SimpleNamespace(
        Id="pm1",
        Type="BankTransfer",
        BankTransferType="SEPA",
        BankTransferAccountNumberMask="******************0189",
        Country="FR",
        PaymentMethodStatus="Closed",
        BankTransferAccountName="Atelier",
        BankName=None,
        BusinessIdentificationCode=None,
        MandateID="BG-1",
        CreatedDate=None,
    )
    method = from_zuora_payment_method(record, default_id="other")
    assert method.masked == "FR****0189" and not method.active and not method.is_default
    charge = from_zuora_charge(
        SimpleNamespace(
            ChargeNumber="C-1",
            Name="Seat",
            Quantity="10.000000000",
            Price="29.00",
            BillingPeriod="Month",
            EffectiveStartDate="2026-12-05",
        ),
        "EUR",
    )
    assert charge.quantity == 10 and charge.unit_price == Money(2900, "EUR")


# -- money by each currency's exponent ----------------------------------------------------------

# (currency, Zuora's decimal amount, minor units): JPY has no minor unit, EUR two, the dinars and
# the rial three. Multiplying by 100 would make 15000 JPY 1500000 and 12.345 KWD 1234.
EXPONENT_CASES = [
    ("JPY", "15000", 15000),
    ("EUR", "49.90", 4990),
    ("KWD", "12.345", 12345),
    ("BHD", "0.125", 125),
    ("OMR", "1.5", 1500),
]


@pytest.mark.parametrize(("currency", "amount", "minor"), EXPONENT_CASES)
def test_soap_payments_refunds_and_prices_follow_the_currency_s_exponent(
    currency: str, amount: str, minor: int
) -> None:
    payment = SimpleNamespace(
        Id="p1", Amount=Decimal(amount), PaymentMethodId="pm1", EffectiveDate="2026-12-01"
    )
    assert from_zuora_payment(payment, currency, None).amount == Money(minor, currency)
    refund = SimpleNamespace(Id="r1", Amount=Decimal(amount), Status="Processed")
    assert from_zuora_refund(refund, currency).amount == Money(minor, currency)
    charge = SimpleNamespace(
        ChargeNumber="C-1",
        Name="Seat",
        Quantity="3",
        Price=amount,
        BillingPeriod="Month",
        EffectiveStartDate="2026-12-05",
    )
    assert from_zuora_charge(charge, currency).unit_price == Money(minor, currency)


@pytest.mark.parametrize(("currency", "amount", "minor"), EXPONENT_CASES)
def test_rest_subscriptions_and_previews_follow_the_currency_s_exponent(
    currency: str, amount: str, minor: int
) -> None:
    record = copy.deepcopy(REST_SUBSCRIPTION)
    record["currency"] = currency
    record["ratePlans"][0]["ratePlanCharges"][0]["price"] = Decimal(amount)  # type: ignore[index]
    [seat] = from_rest_subscription(record).charges
    assert seat.unit_price == Money(minor, currency)
    assert monthly_total([seat]) == 4 * minor
    seats = priced("C-1", 4, "Month", lambda: rest_pricing({"model": "PerUnit", "price": amount}))
    assert monthly_minor([seats], "C-1", None, currency) == 4 * minor
    assert monthly_minor([seats], "C-1", 5, currency) == 5 * minor


def test_a_zuora_amount_finer_than_the_currency_rounds_half_to_even() -> None:
    refund = SimpleNamespace(Id="r1", Amount=Decimal("12.3445"), Status="Processed")
    assert from_zuora_refund(refund, "KWD").amount == Money(12344, "KWD")
    refund = SimpleNamespace(Id="r1", Amount=Decimal("2.5"), Status="Processed")
    assert from_zuora_refund(refund, "JPY").amount == Money(2, "JPY")


async def test_rest_amounts_travel_as_exact_json_numbers_both_ways() -> None:
    """What the REST session sends is the Decimal's own digits, and what it reads back is a
    Decimal: 12.345 KWD never becomes 12.3449999... on the way."""
    sent: list[bytes] = []

    def zuora(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        sent.append(request.content)
        answer = as_json({"success": True, "amount": money("12.345"), "fee": money("0.1")})
        return httpx.Response(
            200, content=answer.body, headers={"content-type": "application/json"}
        )

    rest = ZuoraRest(RestConfig("https://zuora.test", "id", "secret"))
    rest._http = httpx.AsyncClient(  # the same session, over a canned Zuora
        base_url="https://zuora.test", transport=httpx.MockTransport(zuora)
    )
    try:
        answer = await rest.request(
            "POST",
            "/v1/payments/p1/refunds",
            "refunding",
            json={"totalAmount": Decimal("12.345"), "yen": Decimal("15000")},
            idempotency_key="k",
        )
    finally:
        await rest.close()
    assert b'"totalAmount":12.345' in sent[0] and b'"yen":15000' in sent[0]
    assert json.loads(sent[0], parse_float=Decimal)["totalAmount"] == Decimal("12.345")
    assert answer["amount"] == Decimal("12.345") and isinstance(answer["fee"], Decimal)


def test_markers_are_short_stable_and_cover_what_is_written() -> None:
    first = marker_of("key-1", "A-S1", "C-1", 4)
    assert first == marker_of("key-1", "A-S1", "C-1", 4) and len(first) <= 30
    assert first != marker_of("key-1", "A-S1", "C-1", 5)
    assert "key-1" not in first
