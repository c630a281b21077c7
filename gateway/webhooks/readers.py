"""How a job reads an object's current state from a provider: through the configured adapter."""

from __future__ import annotations

from typing import Any, cast

from adapters.ports import BillingHistory, Payment, PaymentMethod, RefundResult
from adapters.stripe.provider import stripe_from_settings
from adapters.zuora.provider import zuora_from_settings
from gateway.webhooks.processing import ObjectReader
from gateway.webhooks.zuora_processing import ZuoraReader
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


class ZuoraObjectReader:
    """Payments and refunds through the BillingHistory port, payment methods through the
    account's list. None when Zuora is not configured or holds no such object."""

    async def payment(self, payment_id: str) -> Payment | None:
        adapter = zuora_from_settings(get_settings())
        if adapter is None:
            return None
        try:
            return await cast(BillingHistory, adapter).get_payment(payment_id)
        finally:
            await adapter.close()

    async def refund(self, account_id: str | None, refund_id: str) -> RefundResult | None:
        adapter = zuora_from_settings(get_settings())
        if adapter is None or account_id is None:
            return None
        try:
            refunds = await cast(BillingHistory, adapter).list_refunds(account_id, limit=200)
        finally:
            await adapter.close()
        return next((refund for refund in refunds if refund.id == refund_id), None)

    async def payment_method(self, account_id: str | None, method_id: str) -> PaymentMethod | None:
        adapter = zuora_from_settings(get_settings())
        if adapter is None or account_id is None:
            return None
        try:
            methods = await adapter.list_payment_methods(account_id)
        finally:
            await adapter.close()
        return next((method for method in methods if method.id == method_id), None)


def zuora_reader() -> ZuoraReader:
    return ZuoraObjectReader()
