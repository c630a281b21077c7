"""What a Zuora charge costs for a period, by its model and tiers, read from REST and SOAP
shapes alike."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from adapters.zuora.pricing import monthly_minor, priced, rest_pricing, soap_pricing
from gateway.core.errors import BillingError, ErrorCode

VOLUME_FLAT = [  # the settings' tier table as Zuora holds it (REST spelling)
    {"tier": 1, "startingUnit": 1, "endingUnit": 1, "price": 29.0, "priceFormat": "FlatFee"},
    {"tier": 2, "startingUnit": 2, "endingUnit": 4, "price": 49.0, "priceFormat": "FlatFee"},
    {"tier": 3, "startingUnit": 5, "endingUnit": 10, "price": 99.0, "priceFormat": "FlatFee"},
    {"tier": 4, "startingUnit": 11, "endingUnit": 50, "price": 249.0, "priceFormat": "FlatFee"},
]


def test_a_volume_charge_with_flat_fee_tiers_costs_its_tier() -> None:
    pricing = rest_pricing({"model": "Volume", "price": None, "tiers": VOLUME_FLAT})
    assert [pricing.amount_minor(q, "EUR") for q in (1, 4, 8, 10, 11, 50)] == [
        2900,
        4900,
        9900,
        9900,
        24900,
        24900,
    ]
    assert pricing.unit_price(8) == Decimal("99.0")
    with pytest.raises(BillingError) as outside:
        pricing.amount_minor(51, "EUR")
    assert outside.value.code is ErrorCode.PROVIDER_REJECTED


def test_per_unit_flat_fee_volume_per_unit_and_graduated_tiers() -> None:
    assert rest_pricing({"model": "PerUnit", "price": 29}).amount_minor(3, "EUR") == 8700
    assert rest_pricing({"model": "FlatFee", "price": 15}).amount_minor(7, "EUR") == 1500
    per_unit = [
        {"tier": 1, "startingUnit": 1, "endingUnit": 4, "price": 10, "priceFormat": "PerUnit"},
        {"tier": 2, "startingUnit": 5, "endingUnit": None, "price": 5, "priceFormat": "PerUnit"},
    ]
    volume = rest_pricing({"model": "Volume", "tiers": per_unit})
    assert volume.amount_minor(3, "EUR") == 3000
    assert volume.amount_minor(6, "EUR") == 3000  # 6 x 5.00
    graduated = rest_pricing({"model": "Tiered", "tiers": per_unit})
    assert graduated.amount_minor(3, "EUR") == 3000
    assert graduated.amount_minor(6, "EUR") == 5000  # 40 + 10


def test_soap_spells_models_and_formats_its_own_way() -> None:
    charge = SimpleNamespace(ChargeModel="Volume Pricing", Price=None)
    tiers = [
        SimpleNamespace(
            Tier=2, StartingUnit="5", EndingUnit=None, Price="99", PriceFormat="Flat Fee"
        ),
        SimpleNamespace(
            Tier=1, StartingUnit="1", EndingUnit="4", Price="49", PriceFormat="FlatFee"
        ),
    ]
    pricing = soap_pricing(charge, tiers)
    assert pricing.amount_minor(2, "EUR") == 4900 and pricing.amount_minor(30, "EUR") == 9900
    per_unit = soap_pricing(SimpleNamespace(ChargeModel="Per Unit Pricing", Price="29.00"), [])
    assert per_unit.amount_minor(10, "EUR") == 29000


def test_a_tiered_charge_without_tiers_or_an_unknown_model_is_refused_not_guessed() -> None:
    with pytest.raises(BillingError, match="without its tiers"):
        rest_pricing({"model": "Volume", "price": None, "tiers": []})
    with pytest.raises(BillingError, match="TieredWithOverage"):
        rest_pricing({"model": "TieredWithOverage", "price": 1})


def test_the_monthly_total_keeps_unchanged_charges_zuora_cannot_be_priced_by() -> None:
    seats = priced(
        "C-1", 8, "Month", lambda: rest_pricing({"model": "Volume", "tiers": VOLUME_FLAT})
    )
    discount = priced(
        "C-2", 1, "Month", lambda: rest_pricing({"model": "DiscountPercentage"}), mrr="-10.00"
    )
    setup = priced("C-3", 1, "Annual", lambda: rest_pricing({"model": "FlatFee", "price": 500}))
    charges = [seats, discount, setup]
    assert monthly_minor(charges, "C-1", None, "EUR") == 9900 - 1000
    assert monthly_minor(charges, "C-1", 50, "EUR") == 24900 - 1000
    with pytest.raises(BillingError, match="DiscountPercentage"):
        monthly_minor(charges, "C-2", 2, "EUR")  # the changed charge must be priced
