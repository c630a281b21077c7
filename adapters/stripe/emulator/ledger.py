"""The emulator's read side of billing history, as Stripe lists it: invoices by customer,
subscription and status (their `payments` included on `expand[]=payments` /
`expand[]=data.payments`), one invoice, and a customer's PaymentIntents with their latest charge
expandable in a list (`expand[]=data.latest_charge`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from adapters.stripe.emulator.invoicing import with_payments
from adapters.stripe.emulator.state import StripeAccount, StripeError, StripeObject, public

Params = dict[str, Any]
Page = Callable[[list[StripeObject], str, Params], dict[str, Any]]
Route = tuple[str, re.Pattern[str], Callable[..., Any], bool]
INVOICE_STATUSES = ("draft", "open", "paid", "uncollectible", "void")


def _expands(params: Params, field: str) -> bool:
    wanted = params.get("expand") or []
    return isinstance(wanted, list) and (field in wanted or f"data.{field}" in wanted)


def _subscription_of(invoice: StripeObject) -> str | None:
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return details.get("subscription") or invoice.get("subscription")


class Ledger:
    def __init__(self, account: StripeAccount, page: Page) -> None:
        self.account, self._page = account, page

    def routes(self) -> list[Route]:
        """Matched before the face's own routes (the first match answers)."""
        return [
            ("GET", re.compile(r"/v1/invoices"), self.list_invoices, False),
            ("GET", re.compile(r"/v1/invoices/(in_\w+)"), self.retrieve_invoice, False),
            ("GET", re.compile(r"/v1/payment_intents"), self.list_payment_intents, False),
        ]

    def _invoice(self, invoice: StripeObject, params: Params) -> StripeObject:
        return with_payments(self.account, invoice) if _expands(params, "payments") else invoice

    def list_invoices(self, params: Params) -> dict[str, Any]:
        status = params.get("status")
        if status is not None and status not in INVOICE_STATUSES:
            raise StripeError(400, f"Invalid status: must be one of {INVOICE_STATUSES}")
        found = [
            self._invoice(invoice, params)
            for invoice in self.account.all("invoice")
            if params.get("customer") in (None, invoice.get("customer"))
            and params.get("subscription") in (None, _subscription_of(invoice))
            and status in (None, invoice.get("status"))
        ]
        return self._page(found, "/v1/invoices", params)

    def retrieve_invoice(self, params: Params, invoice_id: str) -> StripeObject:
        return self._invoice(self.account.get("invoice", invoice_id), params)

    def list_payment_intents(self, params: Params) -> dict[str, Any]:
        found = [
            self._intent(intent, params)
            for intent in self.account.all("payment_intent")
            if params.get("customer") in (None, intent.get("customer"))
        ]
        return self._page(found, "/v1/payment_intents", params)

    def _intent(self, intent: StripeObject, params: Params) -> StripeObject:
        charge_id = intent.get("latest_charge")
        if not _expands(params, "latest_charge") or not isinstance(charge_id, str):
            return intent
        charge = self.account.objects.get(charge_id)
        return {**intent, "latest_charge": public(charge) if charge else charge_id}
