"""PaymentIntents in the emulator: the debits being collected. A confirmed SEPA debit is
`processing` for days (the bank has not answered yet), as at Stripe; once settled, its charge
has succeeded and has a receipt. Mixed into `Billing`."""

from __future__ import annotations

from typing import Any

from adapters.stripe.emulator.amounts import refuse_amount_stripe_refuses
from adapters.stripe.emulator.invoicing import receipt_url
from adapters.stripe.emulator.state import StripeAccount, StripeError, StripeObject

Params = dict[str, Any]


def refuse_payment_method_types(params: Params) -> None:
    """Since 2026-09-30 (API version 2026-10-28.endive) Stripe picks the payment method types
    from the account's settings and refuses the parameter on SetupIntents and PaymentIntents."""
    if "payment_method_types" in params:
        raise StripeError(
            400,
            "Received unknown parameter: payment_method_types. Since API version "
            "2026-10-28.endive the payment method types come from your account's settings.",
            code="parameter_unknown",
            param="payment_method_types",
        )


def _int(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(400, f"Invalid integer: {value}", param=param) from None


class Debits:
    account: StripeAccount

    def create_payment_intent(self, params: Params) -> StripeObject:
        """`POST /v1/payment_intents`: a debit of a customer's SEPA method. Confirmed, a SEPA
        debit is `processing` for days (the bank has not answered yet), as at Stripe."""
        refuse_payment_method_types(params)
        amount = _int(params.get("amount"), "amount")
        if amount < 1:
            raise StripeError(400, "Amount must be at least 1 minor unit.", param="amount")
        currency = str(params.get("currency") or "eur").lower()
        refuse_amount_stripe_refuses(amount, currency)
        customer_id = str(params.get("customer") or "")
        self.account.get("customer", customer_id, "customer")
        method_id = str(params.get("payment_method") or "")
        method = self.account.get("payment_method", method_id, "payment_method")
        if method["customer"] != customer_id:
            raise StripeError(
                400,
                f"The payment method {method_id} does not belong to the customer {customer_id}.",
                code="payment_method_unexpected_state",
                param="payment_method",
            )
        intent = self.account.new(
            "pi",
            "payment_intent",
            {
                "amount": amount,
                "currency": currency,
                "customer": customer_id,
                "payment_method": method_id,
                "payment_method_types": [method["type"]],
                "status": "requires_confirmation",
                "latest_charge": None,
                "metadata": params.get("metadata") or {},
                "description": params.get("description"),
            },
        )
        if str(params.get("confirm")).lower() == "true":
            self._start_collecting(intent)
        return intent

    def start_debit(self, customer_id: str, amount: int, currency: str) -> StripeObject:
        """A SEPA debit in flight on the customer's default (or first) SEPA method."""
        customer = self.account.get("customer", customer_id, "customer")
        methods = [
            method
            for method in self.account.all("payment_method")
            if method["customer"] == customer_id and method["type"] == "sepa_debit"
        ]
        default = customer["invoice_settings"]["default_payment_method"]
        chosen = next((m for m in methods if m["id"] == default), methods[0] if methods else None)
        if chosen is None:
            raise StripeError(400, f"The customer {customer_id} has no SEPA payment method.")
        return self.create_payment_intent(
            {
                "customer": customer_id,
                "amount": amount,
                "currency": currency,
                "payment_method": chosen["id"],
                "confirm": "true",
                "description": "Subscription payment (SEPA debit in flight)",
            }
        )

    def settle_debits(self, customer_id: str | None) -> list[StripeObject]:
        """The bank answered: every `processing` debit (of one customer, or all) succeeds."""
        settled = []
        for intent in self.account.all("payment_intent"):
            if intent["status"] == "processing" and customer_id in (None, intent["customer"]):
                intent["status"] = "succeeded"
                charge = self.account.get("charge", intent["latest_charge"])
                charge["status"], charge["paid"] = "succeeded", True
                charge["receipt_url"] = receipt_url(charge["id"])  # once it succeeded
                settled.append(intent)
        return settled

    def _start_collecting(self, intent: StripeObject) -> None:
        method = self.account.objects.get(str(intent["payment_method"])) or {}
        kind = str(method.get("type") or "sepa_debit")
        shown = method.get(kind) or {}
        charge = self.account.new(
            "ch",
            "charge",
            {
                "amount": intent["amount"],
                "amount_refunded": 0,
                "refunded": False,
                "currency": intent["currency"],
                "customer": intent["customer"],
                "payment_intent": intent["id"],
                "payment_method": intent["payment_method"],
                "payment_method_details": {
                    "type": kind,
                    kind: {"country": shown.get("country"), "last4": shown.get("last4")},
                },
                "paid": False,
                "status": "pending",
            },
        )
        intent["latest_charge"] = charge["id"]
        intent["status"] = "processing"
