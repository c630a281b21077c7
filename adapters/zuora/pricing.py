"""What one billing period of a Zuora charge costs at a given quantity, the way Zuora rates it.

A seat charge is priced per unit (quantity times `Price`), or by tiers: over SOAP the charge's
`ChargeModel` says which and its tiers are `RatePlanChargeTier` rows; over REST the charge
carries `model` and `tiers`, and its `price` is null. Reading only `Price` prices a tiered
charge at 0, so the preview's "before" and "after" are computed here from the tiers.

Models the gateway prices: per unit, flat fee, volume (the whole quantity at the one tier it
falls in) and tiered (each tier prices the units that fall in it). Any other model (overage,
discounts, usage) is refused with a sentence rather than guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from adapters.money import to_minor_units
from gateway.core.errors import BillingError, ErrorCode

Model = Literal["per_unit", "flat_fee", "volume", "tiered"]
# SOAP's ChargeModel ("Volume Pricing") and REST's model ("Volume"), squeezed to one spelling.
_MODELS: dict[str, Model] = {
    "perunit": "per_unit",
    "flatfee": "flat_fee",
    "volume": "volume",
    "tiered": "tiered",
}


@dataclass(frozen=True)
class Tier:
    starting_unit: Decimal
    ending_unit: Decimal | None  # None: no end
    price: Decimal
    flat_fee: bool  # the tier's price is for the period, whatever the units in it


@dataclass(frozen=True)
class ChargePricing:
    model: Model
    price: Decimal  # per unit (or the flat fee); unused by tiered models
    tiers: tuple[Tier, ...] = ()

    @property
    def tiered(self) -> bool:
        return self.model in ("volume", "tiered")

    def amount(self, quantity: int | Decimal) -> Decimal:
        """One billing period at `quantity`, in the charge's currency."""
        units = Decimal(quantity)
        if self.model == "per_unit":
            return units * self.price
        if self.model == "flat_fee":
            return self.price
        if self.model == "volume":
            tier = self.tier_of(units)
            return tier.price if tier.flat_fee else tier.price * units
        total = Decimal(0)
        for tier in self.tiers:
            end = units if tier.ending_unit is None else min(units, tier.ending_unit)
            counted = end - tier.starting_unit + 1
            if counted > 0:
                total += tier.price if tier.flat_fee else tier.price * counted
        return total

    def amount_minor(self, quantity: int | Decimal, currency: str) -> int:
        return to_minor_units(self.amount(quantity), currency)

    def unit_price(self, quantity: int | Decimal) -> Decimal:
        """The price an invoice item shows: `Price`, or the price of the tier the quantity
        falls in (a flat fee for a flat-fee tier), as Zuora's invoice items show it."""
        if not self.tiered:
            return self.price
        return self.tier_of(Decimal(quantity)).price

    def tier_of(self, units: Decimal) -> Tier:
        for tier in self.tiers:
            if tier.starting_unit <= units and (
                tier.ending_unit is None or units <= tier.ending_unit
            ):
                return tier
        raise BillingError(
            ErrorCode.PROVIDER_REJECTED,
            f"Zuora has no price tier for a quantity of {units} on this charge: choose a "
            "quantity inside the charge's tiers.",
            extra={"provider": "zuora", "quantity": str(units)},
        )


def model_of(value: Any) -> Model:
    squeezed = str(value or "PerUnit").replace(" ", "").lower().removesuffix("pricing")
    model = _MODELS.get(squeezed)
    if model is None:
        raise BillingError(
            ErrorCode.PROVIDER_REJECTED,
            f"Zuora prices this charge by the {value} model, which the gateway does not "
            "preview: make the change in Zuora.",
            extra={"provider": "zuora", "charge_model": str(value)},
        )
    return model


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _flat(price_format: Any) -> bool:
    return str(price_format or "").replace(" ", "").lower() == "flatfee"


def tiers_from(records: Iterable[Any], field: Callable[[Any, str], Any]) -> tuple[Tier, ...]:
    """Tiers from SOAP RatePlanChargeTier records or REST `tiers` entries; `field(record,
    name)` reads one field under its SOAP name (StartingUnit, EndingUnit, Price, PriceFormat,
    Tier)."""
    ordered = sorted(records, key=lambda record: int(field(record, "Tier") or 0))
    return tuple(
        Tier(
            starting_unit=_decimal(field(record, "StartingUnit")),
            ending_unit=(
                None
                if field(record, "EndingUnit") in (None, "")
                else _decimal(field(record, "EndingUnit"))
            ),
            price=_decimal(field(record, "Price")),
            flat_fee=_flat(field(record, "PriceFormat")),
        )
        for record in ordered
    )


_REST_TIER_FIELDS = {
    "StartingUnit": "startingUnit",
    "EndingUnit": "endingUnit",
    "Price": "price",
    "PriceFormat": "priceFormat",
    "Tier": "tier",
}


def rest_pricing(charge: dict[str, Any]) -> ChargePricing:
    """A REST charge's pricing (`GET /v1/subscriptions/{key}`: `model`, `price`, `tiers`)."""
    model = model_of(charge.get("model"))
    tiers = tiers_from(
        charge.get("tiers") or [], lambda tier, name: tier.get(_REST_TIER_FIELDS[name])
    )
    return _checked(ChargePricing(model, _decimal(charge.get("price")), tiers))


def soap_pricing(charge: Any, tiers: Iterable[Any]) -> ChargePricing:
    """A SOAP RatePlanCharge's pricing, with its RatePlanChargeTier records."""
    model = model_of(getattr(charge, "ChargeModel", None))
    found = tiers_from(tiers, lambda tier, name: getattr(tier, name, None))
    return _checked(ChargePricing(model, _decimal(getattr(charge, "Price", None)), found))


def _checked(pricing: ChargePricing) -> ChargePricing:
    if pricing.tiered and not pricing.tiers:
        raise BillingError(
            ErrorCode.PROVIDER_REJECTED,
            "Zuora answered a tiered charge without its tiers, so its price cannot be read: "
            "check the charge in Zuora.",
            extra={"provider": "zuora", "charge_model": pricing.model},
        )
    return pricing


@dataclass(frozen=True)
class PricedCharge:
    """One recurring charge of a subscription as the preview needs it."""

    number: str
    quantity: Decimal
    monthly: bool
    pricing: ChargePricing | BillingError  # the error: why the gateway cannot price it
    mrr: Decimal | None = None  # Zuora's monthly recurring revenue for it, when it says

    def amount_minor(self, currency: str, quantity: Decimal | None = None) -> int:
        if isinstance(self.pricing, BillingError):
            if quantity is None and self.mrr is not None:
                return to_minor_units(self.mrr, currency)  # unchanged: Zuora's own figure
            raise self.pricing
        return self.pricing.amount_minor(self.quantity if quantity is None else quantity, currency)


def priced(
    number: str,
    quantity: Any,
    billing_period: Any,
    read: Callable[[], ChargePricing],
    mrr: Any = None,
) -> PricedCharge:
    """A PricedCharge, keeping why a charge cannot be priced for the moment it matters (a
    discount charge on the subscription does not stop previewing its seats)."""
    try:
        pricing: ChargePricing | BillingError = read()
    except BillingError as error:
        pricing = error
    return PricedCharge(
        number=number,
        quantity=_decimal(quantity),
        monthly=str(billing_period) == "Month",
        pricing=pricing,
        mrr=None if mrr in (None, "") else _decimal(mrr),
    )


def monthly_minor(
    charges: Iterable[PricedCharge], changed: str, quantity: int | None, currency: str
) -> int:
    """The subscription's monthly recurring amount, in minor units of `currency`, with the
    charge numbered `changed` at `quantity` (None: as it is now)."""
    total = 0
    for charge in charges:
        if not charge.monthly:
            continue
        if charge.number == changed and quantity is not None:
            total += charge.amount_minor(currency, Decimal(quantity))
        else:
            total += charge.amount_minor(currency)
    return total
