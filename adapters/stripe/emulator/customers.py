"""Customers, payment methods, SetupIntents and mandates in the emulator, with Stripe's rules:
a SEPA payment method needs a valid IBAN and keeps only its country, bank code, last four and a
fingerprint visible; a SetupIntent confirmed with mandate data makes an active mandate and
attaches the method to the customer; a detached method is no longer the customer's default."""

from __future__ import annotations

import re
import time
from typing import Any

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from adapters.stripe.emulator.debits import refuse_payment_method_types
from adapters.stripe.emulator.state import StripeAccount, StripeError, StripeObject

Params = dict[str, Any]
# SEPA countries outside the EEA: Stripe needs the holder's address for their IBANs.
ADDRESS_REQUIRED_COUNTRIES = frozenset({"GB", "CH", "MC", "SM", "VA", "AD", "GI"})
ADDRESS_FIELDS = ("line1", "city", "postal_code", "country")


def _require_address(address: Any, country: str) -> None:
    given = address if isinstance(address, dict) else {}
    for name in ADDRESS_FIELDS:
        if not str(given.get(name) or "").strip():
            raise StripeError(
                400,
                f"A SEPA Debit payment method with an IBAN from {country} (outside the EEA) "
                "needs the account holder's address: billing_details[address] with line1, "
                "city, postal_code and country.",
                code="parameter_missing",
                param=f"billing_details[address][{name}]",
            )


def _bool(value: Any) -> bool:
    return str(value).lower() == "true"


class Customers:
    def __init__(self, account: StripeAccount) -> None:
        self.account = account

    # -- customers ---------------------------------------------------------------------------

    def create_customer(self, params: Params, object_id: str | None = None) -> StripeObject:
        settings = params.get("invoice_settings") or {}
        return self.account.new(
            "cus",
            "customer",
            {
                "email": params.get("email"),
                "name": params.get("name"),
                "description": params.get("description"),
                "phone": params.get("phone"),
                "metadata": params.get("metadata") or {},
                "invoice_settings": {
                    "default_payment_method": settings.get("default_payment_method"),
                    "custom_fields": None,
                    "footer": None,
                    "rendering_options": None,
                },
                "address": params.get("address"),
                "balance": 0,
                "currency": None,
                "default_source": None,
                "delinquent": False,
            },
            object_id,
        )

    def update_customer(self, customer_id: str, params: Params) -> StripeObject:
        customer = self.account.get("customer", customer_id)
        settings = params.get("invoice_settings") or {}
        if "default_payment_method" in settings:
            method_id = settings["default_payment_method"] or None
            if method_id is not None:
                method = self.account.get("payment_method", method_id, "default_payment_method")
                if method["customer"] != customer_id:
                    raise StripeError(
                        400,
                        f"The customer does not have a payment method with the ID {method_id}.",
                        code="resource_missing",
                        param="invoice_settings[default_payment_method]",
                    )
            customer["invoice_settings"]["default_payment_method"] = method_id
        for name in ("email", "name", "description", "phone"):
            if name in params:
                customer[name] = params[name] or None
        if "address" in params:
            customer["address"] = params["address"] or None
        if "metadata" in params:
            customer["metadata"] = {**customer["metadata"], **(params["metadata"] or {})}
        self.account.emit("customer.updated", customer)
        return customer

    def search_customers(self, query: str) -> list[StripeObject]:
        """Stripe's search language, the part the gateway writes: `field:'value'` clauses,
        with `metadata['key']`, joined by AND."""
        clauses = [part.strip() for part in re.split(r"\s+AND\s+", query) if part.strip()]
        if not clauses:
            raise StripeError(400, "The search query is empty.", param="query")
        conditions = []
        for clause in clauses:
            found = re.fullmatch(r"(\w+)(?:\['([^']+)'\])?:'((?:[^'\\]|\\.)*)'", clause)
            if not found:
                raise StripeError(400, f"Invalid search query: {clause}", param="query")
            conditions.append(found.groups())

        def matches(customer: StripeObject) -> bool:
            for name, key, value in conditions:
                actual = (
                    customer.get("metadata", {}).get(key)
                    if name == "metadata"
                    else (customer.get(name))
                )
                if str(actual or "").lower() != value.replace("\\'", "'").lower():
                    return False
            return True

        return [customer for customer in self.account.all("customer") if matches(customer)]

    # -- payment methods ---------------------------------------------------------------------

    def create_payment_method(self, params: Params) -> StripeObject:
        kind = params.get("type")
        if kind != "sepa_debit":
            raise StripeError(
                400, f"The emulator makes sepa_debit methods, not {kind}.", param="type"
            )
        raw = str((params.get("sepa_debit") or {}).get("iban") or "")
        try:
            iban = IBAN(raw)
        except SchwiftyException:
            raise StripeError(
                400,
                "The IBAN you provided is invalid.",
                code="invalid_bank_account_iban",
                param="sepa_debit[iban]",
            ) from None
        details = params.get("billing_details") or {}
        if not details.get("name") or not details.get("email"):
            raise StripeError(
                400,
                "A sepa_debit payment method needs billing_details[name] and [email].",
                code="parameter_missing",
                param="billing_details[name]"
                if not details.get("name")
                else "billing_details[email]",
            )
        if iban.country_code in ADDRESS_REQUIRED_COUNTRIES:
            _require_address(details.get("address"), iban.country_code)
        compact = iban.compact
        return self.account.new(
            "pm",
            "payment_method",
            {
                "type": "sepa_debit",
                "customer": None,
                "metadata": params.get("metadata") or {},
                "billing_details": {
                    "name": details.get("name"),
                    "email": details.get("email"),
                    "phone": None,
                    "address": details.get("address"),
                },
                "sepa_debit": {
                    "bank_code": iban.bank_code,
                    "branch_code": iban.branch_code or "",
                    "country": iban.country_code,
                    "fingerprint": self.account.fingerprint(compact),
                    "last4": compact[-4:],
                    "generated_from": {"charge": None, "setup_attempt": None},
                },
                "_iban": compact,
            },
        )

    def attach(self, method_id: str, customer_id: str) -> StripeObject:
        method = self.account.get("payment_method", method_id)
        self.account.get("customer", customer_id, "customer")
        if method["customer"] not in (None, customer_id):
            raise StripeError(
                400,
                "The payment method you provided has already been attached to a customer.",
                code="payment_method_unexpected_state",
            )
        method["customer"] = customer_id
        self.account.emit("payment_method.attached", method)
        return method

    def detach(self, method_id: str) -> StripeObject:
        method = self.account.get("payment_method", method_id)
        if method["customer"] is None:
            raise StripeError(
                400,
                "The payment method you provided is not attached to a customer so detachment "
                "is impossible.",
                code="payment_method_unexpected_state",
            )
        customer = self.account.objects.get(method["customer"])
        if customer and customer["invoice_settings"]["default_payment_method"] == method_id:
            customer["invoice_settings"]["default_payment_method"] = None
        method["customer"] = None
        self.account.emit("payment_method.detached", method)
        return method

    def customer_methods(self, customer_id: str, kind: str | None) -> list[StripeObject]:
        self.account.get("customer", customer_id, "customer")
        return [
            method
            for method in self.account.all("payment_method")
            if method["customer"] == customer_id and kind in (None, method["type"])
        ]

    # -- setup intents and mandates ----------------------------------------------------------

    def create_setup_intent(self, params: Params) -> StripeObject:
        refuse_payment_method_types(params)
        customer_id = params.get("customer")
        if customer_id:
            self.account.get("customer", customer_id, "customer")
        # Stripe offers what the account has switched on (its dashboard settings).
        types = ["card", "sepa_debit"]
        intent = self.account.new(
            "seti",
            "setup_intent",
            {
                "customer": customer_id,
                "payment_method": None,
                "payment_method_types": types,
                "status": "requires_payment_method",
                "usage": params.get("usage") or "off_session",
                "mandate": None,
                "metadata": params.get("metadata") or {},
                "latest_attempt": None,
                "next_action": None,
                "last_setup_error": None,
                "description": params.get("description"),
            },
        )
        intent["client_secret"] = f"{intent['id']}_secret_emulator"
        if params.get("payment_method_data"):
            method = self.create_payment_method(params["payment_method_data"])
            intent["payment_method"] = method["id"]
            intent["status"] = "requires_confirmation"
        elif params.get("payment_method"):
            self.account.get("payment_method", params["payment_method"], "payment_method")
            intent["payment_method"] = params["payment_method"]
            intent["status"] = "requires_confirmation"
        if _bool(params.get("confirm")):
            self._confirm(intent, params.get("mandate_data"))
        return intent

    def _confirm(self, intent: StripeObject, mandate_data: Any) -> None:
        if intent["payment_method"] is None:
            raise StripeError(
                400,
                "You cannot confirm this SetupIntent because it's missing a payment method.",
                code="setup_intent_unexpected_state",
            )
        method = self.account.get("payment_method", intent["payment_method"])
        if method["type"] == "sepa_debit":
            acceptance = (mandate_data or {}).get("customer_acceptance") or {}
            if acceptance.get("type") not in ("offline", "online"):
                raise StripeError(
                    400,
                    "A sepa_debit SetupIntent needs mandate_data[customer_acceptance].",
                    code="parameter_missing",
                    param="mandate_data[customer_acceptance][type]",
                )
            mandate = self.account.new(
                "mandate",
                "mandate",
                {
                    "customer_acceptance": {
                        "type": acceptance["type"],
                        "accepted_at": int(acceptance.get("accepted_at") or time.time()),
                        acceptance["type"]: acceptance.get(acceptance["type"]) or {},
                    },
                    "payment_method": method["id"],
                    "payment_method_details": {
                        "type": "sepa_debit",
                        "sepa_debit": {
                            "reference": method["sepa_debit"]["fingerprint"].upper(),
                            "url": "https://emulator.invalid/mandates",
                        },
                    },
                    "status": "active",
                    "type": "multi_use",
                },
            )
            intent["mandate"] = mandate["id"]
            self.account.emit("mandate.updated", mandate)
        if intent["customer"]:
            self.attach(method["id"], intent["customer"])
        intent["status"] = "succeeded"
        self.account.emit("setup_intent.succeeded", intent)
