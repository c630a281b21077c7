"""How a job reads an object's current state from Stripe: through the configured adapter."""

from __future__ import annotations

from typing import Any

from gateway.providers import stripe_from_settings
from gateway.webhooks.processing import ObjectReader
from settings import get_settings


class StripeObjectReader(ObjectReader):
    async def current_object(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        adapter = stripe_from_settings(get_settings())
        if adapter is None:
            return None
        try:
            return await adapter.current_object(object_type, object_id)
        finally:
            await adapter.close()


def stripe_reader() -> ObjectReader:
    return StripeObjectReader()
