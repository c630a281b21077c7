"""The Stripe adapter's Radar value lists, the provider's copy of the gateway's fraud-stop
lists: one list per item type under a fixed alias, created once (a derived idempotency key
makes two workers creating it at once make one), items added and removed by value.
Mixed into StripeAdapter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from adapters.ports import BlockedItemType
from adapters.stripe.calls import under_key
from adapters.stripe.client import derived_key
from adapters.stripe.mapping import plain


def alias_of(item_type: BlockedItemType) -> str:
    return f"billing_gateway_block_{item_type}"


class StripeRadar:
    _stripe: Any
    _call: Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]

    async def ensure_block_list(self, item_type: BlockedItemType) -> str:
        step = "preparing the Radar list"
        alias = alias_of(item_type)
        found = await self._call(
            step, lambda: self._stripe.radar.value_lists.list_async(params={"alias": alias})
        )
        if found.data:
            return str(found.data[0].id)
        created = await self._call(
            step,
            lambda: self._stripe.radar.value_lists.create_async(
                params={
                    "alias": alias,
                    "name": f"Blocked by billing-gateway: {item_type.replace('_', ' ')}",
                    "item_type": item_type,
                },
                options={"idempotency_key": derived_key(alias, "value-list")},
            ),
        )
        return str(created.id)

    async def _item(self, list_id: str, value: str) -> Any | None:
        items = await self._call(
            "reading the Radar list",
            lambda: self._stripe.radar.value_list_items.list_async(
                params={"value_list": list_id, "value": value}
            ),
        )
        return items.data[0] if items.data else None

    @under_key
    async def add_blocked(
        self, item_type: BlockedItemType, value: str, *, idempotency_key: str
    ) -> None:
        list_id = await self.ensure_block_list(item_type)
        if await self._item(list_id, value) is not None:
            return
        await self._call(
            "adding to the Radar list",
            lambda: self._stripe.radar.value_list_items.create_async(
                params={"value_list": list_id, "value": value},
                options={"idempotency_key": derived_key(idempotency_key, "radar-item")},
            ),
        )

    async def remove_blocked(self, item_type: BlockedItemType, value: str) -> None:
        list_id = await self.ensure_block_list(item_type)
        item = await self._item(list_id, value)
        if item is not None:
            await self._call(
                "removing from the Radar list",
                lambda: self._stripe.radar.value_list_items.delete_async(str(item.id)),
            )

    async def blocked_values(self, item_type: BlockedItemType) -> Sequence[str]:
        list_id = await self.ensure_block_list(item_type)
        items = await self._call(
            "reading the Radar list",
            lambda: self._stripe.radar.value_list_items.list_async(
                params={"value_list": list_id, "limit": 100}
            ),
        )
        return [str(plain(item)["value"]) async for item in items.auto_paging_iter()]
