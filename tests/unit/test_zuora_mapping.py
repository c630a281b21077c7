"""Zuora's answers to neutral values, on canned bodies shaped like Zuora's documented ones:
masked data only, money in minor units, charges named by their stable number."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from adapters.ports import Money
from adapters.zuora.adapter import marker_of
from adapters.zuora.mapping import (
    from_zuora_charge,
    from_zuora_payment_method,
    monthly_total,
    to_minor_units,
)
from adapters.zuora.rest_mapping import from_rest_payment_method, from_rest_subscription

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


def test_amounts_round_to_minor_units() -> None:
    assert to_minor_units("49.995") == 5000 and to_minor_units(0.1 + 0.2) == 30


def test_markers_are_short_stable_and_cover_what_is_written() -> None:
    first = marker_of("key-1", "A-S1", "C-1", 4)
    assert first == marker_of("key-1", "A-S1", "C-1", 4) and len(first) <= 30
    assert first != marker_of("key-1", "A-S1", "C-1", 5)
    assert "key-1" not in first
