"""Payments made outside Stripe (mailed cheques, issue 17) in the emulator, as the pinned API
version takes them:

- `POST /v1/payment_records/report_payment`: a PaymentRecord (`pr_...`) with a custom payment
  method and a custom processor whose `payment_reference` is the cheque's number; outcome
  `guaranteed` only (the gateway reports a cheque once it is in hand);
- `GET /v1/payment_records/{id}`;
- `POST /v1/invoices/{id}/attach_payment` with `payment_record`: the record's amount is credited
  to an open invoice (`amount_paid` up, `amount_remaining` down) and the invoice is `paid` once
  nothing remains; more than remains is kept as `amount_overpaid`, as Stripe's invoice shows;
- `POST /v1/payment_records/{id}/report_refund`: the refund of an off-Stripe payment, its
  `refund_reference` unique across all refunds;
- `POST` and `GET /v1/customers/{id}/balance_transactions`: a credit (negative amount) the
  customer's next invoice uses, and its withdrawal (positive).

A refused write changes nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from adapters.stripe.emulator.invoicing import with_payments
from adapters.stripe.emulator.state import StripeAccount, StripeError, StripeObject

Params = dict[str, Any]
Page = Callable[[list[StripeObject], str, Params], dict[str, Any]]
Route = tuple[str, re.Pattern[str], Callable[..., Any], bool]
ATTACHABLE = ("open",)  # Stripe credits payments to finalized invoices that are not settled


def _int(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(400, f"Invalid integer: {value}", param=param) from None


def _required(params: Params, *path: str) -> Any:
    node: Any = params
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    if node in (None, ""):
        name = path[0] + "".join(f"[{part}]" for part in path[1:])
        raise StripeError(
            400, f"Missing required param: {name}.", code="parameter_missing", param=name
        )
    return node


def _money(currency: str, value: int) -> dict[str, Any]:
    return {"currency": currency, "value": value}


def _expands(params: Params, field: str) -> bool:
    wanted = params.get("expand") or []
    return isinstance(wanted, list) and field in wanted


class OffStripe:
    def __init__(self, account: StripeAccount, page: Page) -> None:
        self.account, self._page = account, page

    def routes(self) -> list[Route]:
        return [
            (
                "POST",
                re.compile(r"/v1/payment_records/report_payment"),
                self.report_payment,
                True,
            ),
            (
                "GET",
                re.compile(r"/v1/payment_records/(pr_\w+)"),
                lambda _params, record_id: self.account.get("payment_record", record_id),
                False,
            ),
            (
                "POST",
                re.compile(r"/v1/payment_records/(pr_\w+)/report_refund"),
                self.report_refund,
                True,
            ),
            (
                "POST",
                re.compile(r"/v1/invoices/(in_\w+)/attach_payment"),
                self.attach_payment,
                True,
            ),
            (
                "POST",
                re.compile(r"/v1/customers/(cus_\w+)/balance_transactions"),
                self.add_balance_transaction,
                True,
            ),
            (
                "GET",
                re.compile(r"/v1/customers/(cus_\w+)/balance_transactions"),
                self.list_balance_transactions,
                False,
            ),
        ]

    # -- payment records -----------------------------------------------------------------------

    def report_payment(self, params: Params) -> StripeObject:
        currency = str(_required(params, "amount_requested", "currency")).lower()
        value = _int(_required(params, "amount_requested", "value"), "amount_requested[value]")
        if value < 1:
            raise StripeError(
                400, "amount_requested[value] must be positive.", param="amount_requested[value]"
            )
        _int(_required(params, "initiated_at"), "initiated_at")
        outcome = params.get("outcome")
        if outcome != "guaranteed":
            raise StripeError(
                400,
                f"The emulator takes payment records reported as guaranteed, not {outcome}.",
                param="outcome",
            )
        guaranteed_at = _int(
            _required(params, "guaranteed", "guaranteed_at"), "guaranteed[guaranteed_at]"
        )
        method = _required(params, "payment_method_details")
        if method.get("type") != "custom" or not (method.get("custom") or {}):
            raise StripeError(
                400,
                "The emulator takes custom payment method details "
                "(payment_method_details[type]=custom with [custom]).",
                param="payment_method_details[type]",
            )
        if _required(params, "processor_details", "type") != "custom":
            raise StripeError(
                400, "processor_details[type] must be custom.", param="processor_details[type]"
            )
        reference = _required(params, "processor_details", "custom", "payment_reference")
        customer_id = (params.get("customer_details") or {}).get("customer")
        if customer_id:
            self.account.get("customer", customer_id, "customer_details[customer]")
        zero = _money(currency, 0)
        record = self.account.new(
            "pr",
            "payment_record",
            {
                "amount": _money(currency, value),
                "amount_authorized": _money(currency, value),
                "amount_canceled": zero,
                "amount_failed": zero,
                "amount_guaranteed": _money(currency, value),
                "amount_refunded": dict(zero),
                "amount_requested": _money(currency, value),
                "application": None,
                "customer_details": {
                    "customer": customer_id,
                    "email": None,
                    "name": None,
                    "phone": None,
                },
                "customer_presence": params.get("customer_presence"),
                "description": params.get("description"),
                "metadata": params.get("metadata") or {},
                "payment_method_details": {
                    "billing_details": None,
                    "custom": {
                        "display_name": method["custom"].get("display_name"),
                        "type": method["custom"].get("type"),
                    },
                    "payment_method": None,
                    "type": "custom",
                },
                "processor_details": {"type": "custom", "custom": {"payment_reference": reference}},
                "reported_by": "self",
                "shipping_details": None,
                "_guaranteed_at": guaranteed_at,
                "_invoice": None,
                "_refund_references": [],
            },
        )
        record["latest_payment_attempt_record"] = "par_" + record["id"].removeprefix("pr_")
        return record

    def attach_payment(self, params: Params, invoice_id: str) -> StripeObject:
        invoice = self.account.get("invoice", invoice_id)
        record_id = str(_required(params, "payment_record"))
        record = self.account.get("payment_record", record_id, "payment_record")
        if record["_invoice"] == invoice_id:
            return self._shown(invoice, params)
        if record["_invoice"] is not None:
            raise StripeError(
                400,
                f"The payment record {record_id} is attached to the invoice "
                f"{record['_invoice']} already.",
                param="payment_record",
            )
        if invoice["status"] not in ATTACHABLE:
            raise StripeError(
                400,
                f"You can only attach payments to open invoices; this invoice is "
                f"{invoice['status']}.",
                code="invoice_not_editable" if invoice["status"] == "paid" else None,
            )
        amount = record["amount_guaranteed"]
        if amount["currency"] != invoice["currency"]:
            raise StripeError(
                400,
                f"The payment record is in {amount['currency']}, the invoice in "
                f"{invoice['currency']}; attach a payment in the invoice's currency.",
                param="payment_record",
            )
        record["_invoice"] = invoice_id
        invoice["_payments"] = [*(invoice.get("_payments") or []), record_id]
        self._credit(invoice, int(amount["value"]))
        return self._shown(invoice, params)

    def report_refund(self, params: Params, record_id: str) -> StripeObject:
        record = self.account.get("payment_record", record_id)
        if params.get("outcome") != "refunded":
            raise StripeError(400, "outcome must be refunded.", param="outcome")
        if _required(params, "processor_details", "type") != "custom":
            raise StripeError(
                400, "processor_details[type] must be custom.", param="processor_details[type]"
            )
        reference = str(_required(params, "processor_details", "custom", "refund_reference"))
        _int(_required(params, "refunded", "refunded_at"), "refunded[refunded_at]")
        records = self.account.all("payment_record")
        taken = {ref for other in records for ref in other["_refund_references"]}
        if reference in taken:
            raise StripeError(
                400,
                f"A refund with the reference {reference} was reported already; "
                "refund references are unique across all refunds.",
                param="processor_details[custom][refund_reference]",
            )
        guaranteed, refunded = record["amount_guaranteed"], record["amount_refunded"]
        left = int(guaranteed["value"]) - int(refunded["value"])
        wanted = params.get("amount") or {}
        value = _int(wanted.get("value", left), "amount[value]")
        if wanted and str(wanted.get("currency") or "").lower() != guaranteed["currency"]:
            raise StripeError(400, "amount[currency] must be the payment's.", param="amount")
        if value < 1 or value > left:
            raise StripeError(
                400,
                f"Refund amount ({value}) is greater than the unrefunded amount of the payment "
                f"({left}).",
                code="amount_too_large" if value > left else None,
                param="amount[value]",
            )
        refunded["value"] = int(refunded["value"]) + value
        record["_refund_references"].append(reference)
        if record["metadata"] is not None and params.get("metadata"):
            record["metadata"] = {**record["metadata"], **params["metadata"]}
        invoice = self.account.objects.get(record["_invoice"] or "")
        if invoice is not None and refunded["value"] == guaranteed["value"]:
            self._reopen(invoice, int(guaranteed["value"]))
        return record

    def _credit(self, invoice: StripeObject, value: int) -> None:
        paid = int(invoice["amount_paid"]) + value
        due = int(invoice["amount_due"])
        invoice["amount_paid"] = paid
        invoice["amount_remaining"] = max(due - paid, 0)
        invoice["amount_overpaid"] = max(paid - due, 0)
        if invoice["amount_remaining"] == 0:
            invoice["status"] = "paid"
            invoice["status_transitions"]["paid_at"] = int(time.time())
            self.account.emit("invoice.paid", invoice)

    def _reopen(self, invoice: StripeObject, value: int) -> None:
        """ASSUMPTION, to confirm against Stripe in test mode: a fully refunded off-Stripe
        payment attached to an invoice no longer counts towards it, so the invoice is due again
        (`amount_paid` down, `open`). Stripe's documentation only says such a refund can be
        recorded with a credit note; the gateway shows the invoice status Stripe answers, so a
        Stripe that keeps the invoice `paid` is shown as it is, never as "open again"."""
        if invoice["status"] not in ("open", "paid"):
            return
        paid = max(int(invoice["amount_paid"]) - value, 0)
        due = int(invoice["amount_due"])
        invoice["amount_paid"] = paid
        invoice["amount_remaining"] = max(due - paid, 0)
        invoice["amount_overpaid"] = max(paid - due, 0)
        if invoice["amount_remaining"] > 0 and invoice["status"] == "paid":
            invoice["status"] = "open"
            invoice["status_transitions"]["paid_at"] = None
            self.account.emit("invoice.updated", invoice)

    def _shown(self, invoice: StripeObject, params: Params) -> StripeObject:
        return with_payments(self.account, invoice) if _expands(params, "payments") else invoice

    # -- the customer's credit balance ---------------------------------------------------------

    def add_balance_transaction(self, params: Params, customer_id: str) -> StripeObject:
        customer = self.account.get("customer", customer_id)
        amount = _int(_required(params, "amount"), "amount")
        if amount == 0:
            raise StripeError(400, "The amount must not be zero.", param="amount")
        currency = str(_required(params, "currency")).lower()
        if customer.get("currency") not in (None, currency):
            raise StripeError(
                400,
                f"The customer's balance is in {customer['currency']}; a transaction in "
                f"{currency} cannot be added to it.",
                param="currency",
            )
        customer["currency"] = currency
        customer["balance"] = int(customer.get("balance") or 0) + amount
        return self.account.new(
            "cbtxn",
            "customer_balance_transaction",
            {
                "amount": amount,
                "currency": currency,
                "customer": customer_id,
                "description": params.get("description"),
                "ending_balance": customer["balance"],
                "invoice": None,
                "credit_note": None,
                "metadata": params.get("metadata") or {},
                "type": "adjustment",
            },
        )

    def list_balance_transactions(self, params: Params, customer_id: str) -> dict[str, Any]:
        self.account.get("customer", customer_id)
        found = [
            transaction
            for transaction in self.account.all("customer_balance_transaction")
            if transaction["customer"] == customer_id
        ]
        return self._page(found, f"/v1/customers/{customer_id}/balance_transactions", params)
