"""Stripe objects and errors to the gateway's terms, on canned bodies in Stripe's shapes."""

from __future__ import annotations

import json

import stripe

from adapters.ports import Money
from adapters.stripe.connect import _comparable, from_stripe_account
from adapters.stripe.errors import from_stripe_error
from adapters.stripe.mapping import from_stripe_customer, from_stripe_payment_method
from adapters.stripe.records import from_stripe_subscription
from gateway.core.errors import ErrorCode

SEPA_METHOD = {
    "id": "pm_1NsepA",
    "object": "payment_method",
    "type": "sepa_debit",
    "created": 1700000000,
    "customer": "cus_1",
    "billing_details": {"name": "Jenny Rosen", "email": "jenny@example.com"},
    "sepa_debit": {
        "bank_code": "37040044",
        "branch_code": "",
        "country": "DE",
        "fingerprint": "Xt5EWLLDS7FJjR1c",
        "last4": "3000",
    },
}


def test_a_sepa_method_keeps_country_bank_code_last_four_and_fingerprint() -> None:
    method = from_stripe_payment_method(
        stripe.PaymentMethod.construct_from(SEPA_METHOD, "k"), "pm_1NsepA"
    )
    assert (method.kind, method.masked, method.bank_code) == (
        "sepa_debit",
        "DE****3000",
        "37040044",
    )
    assert method.fingerprint == "Xt5EWLLDS7FJjR1c" and method.is_default and method.active
    detached = from_stripe_payment_method({**SEPA_METHOD, "customer": None}, None)
    assert not detached.active and not detached.is_default


def test_a_customer_and_a_subscription() -> None:
    customer = from_stripe_customer(
        {
            "id": "cus_1",
            "name": "Atelier",
            "email": "a@example.com",
            "currency": "eur",
            "invoice_settings": {"default_payment_method": "pm_1"},
        }
    )
    assert (customer.id, customer.currency, customer.default_payment_method_id) == (
        "cus_1",
        "EUR",
        "pm_1",
    )
    subscription = from_stripe_subscription(
        {
            "id": "sub_1",
            "customer": "cus_1",
            "status": "active",
            "items": {
                "data": [
                    {
                        "id": "si_1",
                        "quantity": 3,
                        "price": {
                            "product": "prod_1",
                            "unit_amount": 4900,
                            "currency": "eur",
                            "recurring": {"interval": "month"},
                        },
                    }
                ]
            },
        }
    )
    [item] = subscription.charges
    assert (item.id, item.quantity, item.unit_price) == ("si_1", 3, Money(4900, "EUR"))


def test_partner_legal_names_compare_without_case_accents_or_punctuation() -> None:
    assert _comparable("Brasserie du Port S.A.S.") == _comparable("BRASSERIE DU PORT SAS")
    assert _comparable("Société Générale") == _comparable("societe generale")
    assert _comparable("Le Petit Port") != _comparable("Brasserie du Port SAS")
    account = from_stripe_account(
        {
            "id": "acct_1",
            "company": {"name": "Brasserie du Port SAS"},
            "business_profile": {"name": "Le Petit Port"},
            "country": "FR",
            "default_currency": "eur",
        }
    )
    assert account.legal_name == "Brasserie du Port SAS" and account.trading_name == "Le Petit Port"


def _error(status: int, body: dict[str, object]) -> stripe.StripeError:
    """The exception stripe-python itself raises for this answer."""
    requestor = stripe.StripeClient("sk_test_x")._requestor
    raw = json.dumps({"error": body})
    try:
        requestor.handle_error_response(
            raw, status, {"error": body}, {"request-id": "req_123"}, "V1"
        )
    except stripe.StripeError as raised:
        return raised
    raise AssertionError("stripe-python raised nothing")


def test_errors_map_by_class_and_code_and_keep_stripes_ids() -> None:
    missing = from_stripe_error(
        _error(
            404,
            {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": "No such customer",
            },
        ),
        "looking up",
    )
    assert missing.code is ErrorCode.PROVIDER_NOT_FOUND
    assert missing.extra == {
        "provider": "stripe",
        "provider_code": "resource_missing",
        "provider_request_id": "req_123",
    }
    declined = from_stripe_error(
        _error(
            402,
            {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "insufficient_funds",
                "message": "Declined",
            },
        ),
        "the payment",
    )
    assert declined.code is ErrorCode.PROVIDER_REJECTED and "insufficient_funds" in declined.detail
    busy = from_stripe_error(
        _error(
            429,
            {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many"},
        ),
        "x",
    )
    assert busy.code is ErrorCode.PROVIDER_UNAVAILABLE and busy.headers == {"Retry-After": "5"}
    reused = from_stripe_error(
        _error(
            400,
            {"type": "idempotency_error", "message": "Keys for idempotent requests"},
        ),
        "the refund",
    )
    assert reused.code is ErrorCode.PROVIDER_CONFLICT
    odd = from_stripe_error(
        _error(418, {"type": "api_error", "code": "teapot", "message": "?"}), "x"
    )
    assert odd.code is ErrorCode.PROVIDER_UNAVAILABLE and odd.extra["provider_code"] == "teapot"
