"""Radar value lists in the emulator: one alias per list, items unique per list."""

from __future__ import annotations

from typing import Any

from adapters.stripe.emulator.state import StripeAccount, StripeError, StripeObject

Params = dict[str, Any]
ITEM_TYPES = (
    "card_bin",
    "card_fingerprint",
    "case_sensitive_string",
    "country",
    "customer_id",
    "email",
    "ip_address",
    "sepa_debit_fingerprint",
    "string",
    "us_bank_account_fingerprint",
)


class Radar:
    def __init__(self, account: StripeAccount) -> None:
        self.account = account

    def create_list(self, params: Params) -> StripeObject:
        alias, item_type = str(params.get("alias") or ""), params.get("item_type") or "string"
        if not alias or not params.get("name"):
            raise StripeError(400, "A value list needs an alias and a name.", param="alias")
        if item_type not in ITEM_TYPES:
            raise StripeError(400, f"Invalid item_type: {item_type}", param="item_type")
        if any(existing["alias"] == alias for existing in self.account.all("radar.value_list")):
            raise StripeError(
                400, f"A value list with alias {alias} already exists.", param="alias"
            )
        return self.account.new(
            "rsl",
            "radar.value_list",
            {
                "alias": alias,
                "name": params["name"],
                "item_type": item_type,
                "metadata": params.get("metadata") or {},
            },
        )

    def lists(self, params: Params) -> list[StripeObject]:
        return [
            value_list
            for value_list in self.account.all("radar.value_list")
            if params.get("alias") in (None, value_list["alias"])
        ]

    def add_item(self, params: Params) -> StripeObject:
        value_list = self.account.get(
            "radar.value_list", str(params.get("value_list") or ""), "value_list"
        )
        value = str(params.get("value") or "")
        if not value:
            raise StripeError(400, "An item needs a value.", param="value")
        if any(item["value"] == value for item in self.items({"value_list": value_list["id"]})):
            raise StripeError(400, f"The value {value} is already in the list.", param="value")
        return self.account.new(
            "rsli", "radar.value_list_item", {"value_list": value_list["id"], "value": value}
        )

    def items(self, params: Params) -> list[StripeObject]:
        return [
            item
            for item in self.account.all("radar.value_list_item")
            if item["value_list"] == params.get("value_list")
            and params.get("value") in (None, item["value"])
        ]

    def delete_item(self, item_id: str) -> StripeObject:
        self.account.get("radar.value_list_item", item_id)
        del self.account.objects[item_id]
        return {"id": item_id, "object": "radar.value_list_item", "deleted": True}
