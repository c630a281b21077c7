"""Subscriptions in the emulator, changed the way Zuora changes them: every amendment (SOAP
`amend`) or order action (REST `/v1/orders`) makes a new subscription version. The old version
becomes `Expired`; its charges are copied with new ids and the same charge numbers, and a changed
charge gets a new segment from the change's effective date.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from adapters.zuora.emulator.pricing import charge_amount, copy_tiers, unit_price
from adapters.zuora.emulator.state import Tenant, ZObject, ZuoraError, new_id


@dataclass(frozen=True)
class ChargeUpdate:
    quantity: Decimal
    charge_number: str | None = None
    product_rate_plan_charge_id: str | None = None  # how SOAP's UpdateProduct names a charge


@dataclass
class Outcome:
    subscription: ZObject  # the new version, or the current one for a preview
    invoice: ZObject
    invoice_items: list[ZObject] = field(default_factory=list)
    delta_mrr: Decimal = Decimal(0)
    amendment_id: str | None = None


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _month_later(start: date) -> date:
    month = start.month % 12 + 1
    year = start.year + (start.month == 12)
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


class Amendments:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant

    # -- reading -----------------------------------------------------------------------------

    def current(self, key: str) -> ZObject:
        """The latest version of a subscription, by the id of any version or by its number."""
        versions = self.tenant.table("Subscription").values()
        named = next((s for s in versions if key in (s["Id"], s.get("Name"))), None)
        if named is None:
            raise ZuoraError("INVALID_VALUE", f"The subscription {key} is invalid.")
        latest = [
            s
            for s in versions
            if s["OriginalId"] == named["OriginalId"] and s["Status"] != "Expired"
        ]
        return latest[0]

    def rate_plans(self, subscription_id: str) -> list[ZObject]:
        plans = self.tenant.table("RatePlan").values()
        return [plan for plan in plans if plan["SubscriptionId"] == subscription_id]

    def charges(self, rate_plan_id: str) -> list[ZObject]:
        charges = self.tenant.table("RatePlanCharge").values()
        return [charge for charge in charges if charge["RatePlanId"] == rate_plan_id]

    def last_segments(self, subscription_id: str) -> list[ZObject]:
        return [
            charge
            for plan in self.rate_plans(subscription_id)
            for charge in self.charges(plan["Id"])
            if str(charge.get("IsLastSegment")).lower() == "true"
        ]

    # -- changing ----------------------------------------------------------------------------

    def update_product(
        self,
        key: str,
        updates: list[ChargeUpdate],
        effective: date,
        *,
        preview: bool,
        name: str | None = None,
    ) -> Outcome:
        current = self.current(key)
        if current["Status"] != "Active":
            raise ZuoraError("INVALID_VALUE", "Only an active subscription can be amended.")
        quantities = self._resolve(current, updates, effective)
        before = self._mrr(current["Id"], {})
        after = self._mrr(current["Id"], quantities)
        invoice, items = self._invoice(current, quantities, effective)
        if preview:
            return Outcome(current, invoice, items, after - before)
        amendment_id = self._amendment(current, "UpdateProduct", effective, name)
        version = self._new_version(current, "Active")
        for charge in self.last_segments(version["Id"]):
            quantity = quantities.get(charge["ChargeNumber"])
            if quantity is None:
                continue
            charge.update(IsLastSegment=False, EffectiveEndDate=effective.isoformat())
            self._add_charge(
                charge["Id"],
                {
                    **charge,
                    "Quantity": str(quantity),
                    "Segment": int(charge.get("Segment") or 1) + 1,
                    "EffectiveStartDate": effective.isoformat(),
                    "EffectiveEndDate": None,
                    "IsLastSegment": True,
                },
            )
        return Outcome(version, invoice, items, after - before, amendment_id)

    def cancel(self, key: str, effective: date, *, name: str | None = None) -> Outcome:
        current = self.current(key)
        if current["Status"] != "Active":
            raise ZuoraError("INVALID_VALUE", "The subscription is already cancelled.")
        amendment_id = self._amendment(current, "Cancellation", effective, name)
        version = self._new_version(current, "Cancelled")
        version["SubscriptionEndDate"] = effective.isoformat()
        zero = {"Amount": "0", "AmountWithoutTax": "0", "TaxAmount": "0"}
        return Outcome(version, zero, [], -self._mrr(current["Id"], {}), amendment_id)

    # -- helpers -----------------------------------------------------------------------------

    def _resolve(
        self, current: ZObject, updates: list[ChargeUpdate], effective: date
    ) -> dict[str, Decimal]:
        """Charge number -> new quantity, refusing what Zuora refuses."""
        if not updates:
            raise ZuoraError("MISSING_REQUIRED_VALUE", "An UpdateProduct needs a charge update.")
        segments = self.last_segments(current["Id"])
        quantities: dict[str, Decimal] = {}
        for update in updates:
            charge = next(
                (
                    c
                    for c in segments
                    if update.charge_number in (None, c["ChargeNumber"])
                    and update.product_rate_plan_charge_id
                    in (None, c.get("ProductRatePlanChargeId"))
                ),
                None,
            )
            if charge is None:
                raise ZuoraError(
                    "INVALID_VALUE", "The charge to update is not on the subscription."
                )
            if update.quantity <= 0:
                raise ZuoraError("INVALID_VALUE", "The quantity must be greater than zero.")
            if effective < as_date(charge["EffectiveStartDate"]):
                raise ZuoraError(
                    "INVALID_VALUE", "The change cannot take effect before the charge's start."
                )
            quantities[charge["ChargeNumber"]] = update.quantity
        return quantities

    def _mrr(self, subscription_id: str, quantities: dict[str, Decimal]) -> Decimal:
        return sum(
            (
                charge_amount(
                    self.tenant, c, quantities.get(c["ChargeNumber"], Decimal(str(c["Quantity"])))
                )
                for c in self.last_segments(subscription_id)
            ),
            Decimal(0),
        )

    def _invoice(
        self, current: ZObject, quantities: dict[str, Decimal], effective: date
    ) -> tuple[ZObject, list[ZObject]]:
        """The invoice for the first period from `effective`: on the billing-cycle day there is
        no proration, so it is one full period of every charge at its new quantity."""
        end = _month_later(effective) - timedelta(days=1)
        items = []
        for charge in self.last_segments(current["Id"]):
            quantity = quantities.get(charge["ChargeNumber"], Decimal(str(charge["Quantity"])))
            items.append(
                {
                    "ChargeName": charge["Name"],
                    "ChargeNumber": charge["ChargeNumber"],
                    "Quantity": quantity,
                    "UnitPrice": unit_price(self.tenant, charge, quantity),
                    "ChargeAmount": charge_amount(self.tenant, charge, quantity),
                    "TaxAmount": Decimal(0),
                    "ServiceStartDate": effective,
                    "ServiceEndDate": end,
                    "SubscriptionNumber": current["Name"],
                }
            )
        total = sum((item["ChargeAmount"] for item in items), Decimal(0))
        invoice = {
            "AccountId": current["AccountId"],
            "Amount": total,
            "AmountWithoutTax": total,
            "TaxAmount": Decimal(0),
            "InvoiceDate": effective,
            "TargetDate": effective,
        }
        return invoice, items

    def _amendment(self, current: ZObject, kind: str, effective: date, name: str | None) -> str:
        return self._add(
            "Amendment",
            {
                "Name": name or f"{kind} {effective.isoformat()}",
                "Type": kind,
                "Status": "Completed",
                "SubscriptionId": current["Id"],
                "ContractEffectiveDate": effective.isoformat(),
                "ServiceActivationDate": effective.isoformat(),
                "CustomerAcceptanceDate": effective.isoformat(),
                "EffectiveDate": effective.isoformat(),
            },
        )

    def _new_version(self, current: ZObject, status: str) -> ZObject:
        version_id = self._add(
            "Subscription",
            {
                **current,
                "Version": int(current["Version"]) + 1,
                "PreviousSubscriptionId": current["Id"],
                "Status": status,
            },
        )
        current["Status"] = "Expired"
        for plan in self.rate_plans(current["Id"]):
            plan_id = self._add("RatePlan", {**plan, "SubscriptionId": version_id})
            for charge in self.charges(plan["Id"]):
                self._add_charge(charge["Id"], {**charge, "RatePlanId": plan_id})
        return self.tenant.table("Subscription")[version_id]

    def _add_charge(self, copied_from: str, fields: ZObject) -> str:
        charge_id = self._add("RatePlanCharge", fields)
        copy_tiers(self.tenant, copied_from, charge_id)
        return charge_id

    def _add(self, kind: str, fields: ZObject) -> str:
        record = {**fields, "Id": new_id()}
        self.tenant.table(kind)[record["Id"]] = record
        return str(record["Id"])
