"""Stripe's errors in the project's vocabulary: one table by exception class and error code,
keeping Stripe's code and request id for the audit trail."""

from __future__ import annotations

import stripe

from gateway.core.errors import BillingError, ErrorCode

_BY_CODE: dict[str, tuple[ErrorCode, str]] = {
    "resource_missing": (ErrorCode.PROVIDER_NOT_FOUND, "Stripe has no such object."),
    "invalid_bank_account_iban": (
        ErrorCode.PROVIDER_REJECTED,
        "Stripe refused the IBAN; check it with the customer.",
    ),
    "payment_method_unexpected_state": (
        ErrorCode.PROVIDER_CONFLICT,
        "The payment method is not in a state that allows this (already attached or detached).",
    ),
    "parameter_missing": (ErrorCode.PROVIDER_REJECTED, "Stripe needs a value that was not given."),
    # Another refund got there first: read the payment again for what is left.
    "amount_too_large": (
        ErrorCode.REFUND_EXCEEDS_PAYMENT,
        "Stripe refused the refund: it is more than is left on the payment now; "
        "read the payment again for what is left.",
    ),
    # adapters/stripe/units.py refuses these amounts first; Stripe's word where one slips by.
    "invalid_charge_amount_no_decimal_compatible": (
        ErrorCode.VALIDATION_FAILED,
        "Stripe takes ISK and UGX amounts in whole units only; round the amount to a whole unit.",
    ),
    "invalid_charge_amount": (
        ErrorCode.VALIDATION_FAILED,
        "Stripe refused the amount for its currency (BHD, JOD, KWD, OMR and TND amounts must "
        "end in 0, e.g. 12.340 KWD); round it and try again.",
    ),
    "charge_already_refunded": (
        ErrorCode.REFUND_EXCEEDS_PAYMENT,
        "Stripe refused the refund: the payment has been refunded in full already.",
    ),
}


def from_stripe_error(error: stripe.StripeError, step: str) -> BillingError:
    details = error.error
    code = (details.code if details else None) or error.code or type(error).__name__
    extra = {"provider": "stripe", "provider_code": code}
    if error.request_id:
        extra["provider_request_id"] = error.request_id
    if isinstance(error, stripe.CardError):
        decline = details.decline_code if details else None
        return BillingError(
            ErrorCode.PROVIDER_REJECTED,
            f"The bank or card network declined {step}" + (f" ({decline})." if decline else "."),
            extra=extra,
        )
    if isinstance(error, (stripe.RateLimitError, stripe.APIConnectionError, stripe.APIError)):
        return BillingError(
            ErrorCode.PROVIDER_UNAVAILABLE,
            "Stripe is busy or unavailable right now; "
            "the request can be retried with the same key.",
            extra=extra,
            headers={"Retry-After": "5"},
        )
    if isinstance(error, (stripe.AuthenticationError, stripe.PermissionError)):
        return BillingError(
            ErrorCode.PROVIDER_UNAVAILABLE,
            "The gateway cannot use Stripe: check BG_STRIPE_API_KEY and its permissions.",
            extra=extra,
        )
    if isinstance(error, stripe.IdempotencyError):
        return BillingError(
            ErrorCode.PROVIDER_CONFLICT,
            f"Stripe saw this step ({step}) before with other values; it was not repeated.",
            extra=extra,
        )
    mapped = _BY_CODE.get(code)
    if mapped is None and error.http_status == 404:
        mapped = _BY_CODE["resource_missing"]  # a 404 is a missing object, coded or not
    if mapped is not None:
        return BillingError(mapped[0], mapped[1], extra=extra)
    if isinstance(error, stripe.InvalidRequestError):
        return BillingError(ErrorCode.PROVIDER_REJECTED, f"Stripe refused {step}.", extra=extra)
    return BillingError(
        ErrorCode.INTERNAL_ERROR,
        f"Stripe answered {step} with an error the gateway does not know.",
        extra=extra,
    )
