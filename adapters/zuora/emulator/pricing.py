"""What a rate plan charge costs, the way Zuora prices it: per unit (quantity times `Price`), or
by tiers (`RatePlanChargeTier` rows, each a flat fee or a price per unit). A tiered charge has no
`Price` of its own: over SOAP its tiers are queried as RatePlanChargeTier, over REST they come
as `tiers` on the charge, with `price` null."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from adapters.zuora.emulator.state import Tenant, ZObject, ZuoraError, new_id

PER_UNIT = "Per Unit Pricing"
VOLUME = "Volume Pricing"  # the whole quantity is priced by the one tier it falls in
TIERED = "Tiered Pricing"  # each tier prices the units that fall in it
# SOAP's ChargeModel names as REST spells them.
REST_MODEL = {
    PER_UNIT: "PerUnit",
    VOLUME: "Volume",
    TIERED: "Tiered",
    "Flat Fee Pricing": "FlatFee",
}


def tiers_of(tenant: Tenant, charge_id: str) -> list[ZObject]:
    tiers = tenant.table("RatePlanChargeTier").values()
    mine = [tier for tier in tiers if tier.get("RatePlanChargeId") == charge_id]
    return sorted(mine, key=lambda tier: int(tier["Tier"]))


def add_tiers(
    tenant: Tenant, charge_id: str, tiers: Sequence[tuple[int, int | None, Decimal, str]]
) -> None:
    """Tiers as (starting unit, ending unit or None for no end, price, FlatFee | PerUnit)."""
    for number, (start, end, price, price_format) in enumerate(tiers, start=1):
        tenant.create(
            "RatePlanChargeTier",
            {
                "RatePlanChargeId": charge_id,
                "Tier": number,
                "StartingUnit": str(start),
                "EndingUnit": None if end is None else str(end),
                "Price": str(price),
                "PriceFormat": price_format,
            },
        )


def copy_tiers(tenant: Tenant, from_charge_id: str, to_charge_id: str) -> None:
    """A new version or segment of a charge keeps its tiers, under its own id (as Zuora does)."""
    table = tenant.table("RatePlanChargeTier")
    for tier in tiers_of(tenant, from_charge_id):
        copy = {**tier, "Id": new_id(), "RatePlanChargeId": to_charge_id}
        table[copy["Id"]] = copy


def _tier_price(tier: ZObject, units: Decimal) -> Decimal:
    price = Decimal(str(tier["Price"]))
    return price if tier.get("PriceFormat") == "FlatFee" else price * units


def charge_amount(tenant: Tenant, charge: ZObject, quantity: Decimal) -> Decimal:
    """One billing period of `charge` at `quantity`."""
    tiers = tiers_of(tenant, str(charge["Id"]))
    if not tiers:
        return quantity * Decimal(str(charge.get("Price") or 0))
    if charge.get("ChargeModel") == TIERED:
        total = Decimal(0)
        for tier in tiers:
            start = Decimal(str(tier["StartingUnit"]))
            end = quantity if tier.get("EndingUnit") is None else Decimal(str(tier["EndingUnit"]))
            units = min(quantity, end) - start + 1
            if units > 0:
                total += _tier_price(tier, units)
        return total
    for tier in tiers:
        start = Decimal(str(tier["StartingUnit"]))
        ending = tier.get("EndingUnit")
        if start <= quantity and (ending is None or quantity <= Decimal(str(ending))):
            return _tier_price(tier, quantity)
    raise ZuoraError(
        "INVALID_VALUE", f"The quantity {quantity} is outside every tier of the charge."
    )


def unit_price(tenant: Tenant, charge: ZObject, quantity: Decimal) -> Decimal:
    """An invoice item's unit price: the tier's price for a tiered charge, else `Price`."""
    tiers = tiers_of(tenant, str(charge["Id"]))
    if not tiers:
        return Decimal(str(charge.get("Price") or 0))
    for tier in tiers:
        end = tier.get("EndingUnit")
        if end is None or quantity <= Decimal(str(end)):
            return Decimal(str(tier["Price"]))
    return Decimal(str(tiers[-1]["Price"]))


def _number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


REST_TIMING = {"In Advance": "IN_ADVANCE", "In Arrears": "IN_ARREARS"}  # SOAP's -> REST's


def rest_charge(tenant: Tenant, charge: ZObject) -> dict[str, Any]:
    """A charge as `GET /v1/subscriptions/{key}` shows it."""
    tiers = tiers_of(tenant, str(charge["Id"]))
    model = REST_MODEL.get(str(charge.get("ChargeModel") or PER_UNIT), "PerUnit")
    answer: dict[str, Any] = {
        "id": charge["Id"],
        "number": charge["ChargeNumber"],
        "name": charge["Name"],
        "type": charge.get("ChargeType"),
        "model": model,
        "quantity": _number(charge.get("Quantity")),
        "price": None if tiers else _number(charge.get("Price") or 0),
        "billingPeriod": charge.get("BillingPeriod"),
        "billingTiming": REST_TIMING.get(str(charge.get("BillingTiming")), "IN_ADVANCE"),
        "chargedThroughDate": charge.get("ChargedThroughDate"),
        "processedThroughDate": charge.get("ProcessedThroughDate"),
        "productRatePlanChargeId": charge.get("ProductRatePlanChargeId"),
        "effectiveStartDate": charge.get("EffectiveStartDate"),
        "effectiveEndDate": charge.get("EffectiveEndDate"),
        "segment": charge.get("Segment"),
        "isLastSegment": str(charge.get("IsLastSegment")).lower() == "true",
        "tiers": None,
    }
    if tiers:
        answer["tiers"] = [
            {
                "tier": int(tier["Tier"]),
                "startingUnit": _number(tier["StartingUnit"]),
                "endingUnit": _number(tier.get("EndingUnit")),
                "price": _number(tier["Price"]),
                "priceFormat": tier.get("PriceFormat"),
            }
            for tier in tiers
        ]
        answer["pricingSummary"] = "; ".join(
            f"{tier['StartingUnit']} to {tier.get('EndingUnit') or 'more'}: "
            f"{Decimal(str(tier['Price'])):.2f}"
            f"{' flat fee' if tier.get('PriceFormat') == 'FlatFee' else ' per unit'}"
            for tier in tiers
        )
    return answer
