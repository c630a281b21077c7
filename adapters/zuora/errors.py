"""Zuora's error codes in the project's vocabulary: one table, and a fallback that keeps the raw
code for the audit trail."""

from __future__ import annotations

from gateway.core.errors import BillingError, ErrorCode

# Codes worth another try after a pause: the same call may well succeed.
TRANSIENT = frozenset(
    {
        "LOCK_COMPETITION",
        "TEMPORARY_ERROR",
        "SERVER_UNAVAILABLE",
        "REQUEST_EXCEEDED_RATE",
        "TRANSACTION_TIMEOUT",
    }
)

_TABLE: dict[str, tuple[ErrorCode, str]] = {
    "CANNOT_DELETE": (
        ErrorCode.PROVIDER_CONFLICT,
        "Zuora refused: the account's default payment method cannot be closed or deleted. "
        "Make another method the default first.",
    ),
    # REST only: a reason code of category 30, which names no rule.
    "RULE_RESTRICTION": (
        ErrorCode.PROVIDER_CONFLICT,
        "Zuora refused by one of its rules (for example, the account's default payment method "
        "cannot be closed or deleted: make another method the default first).",
    ),
    "INVALID_ID": (
        ErrorCode.PROVIDER_NOT_FOUND,
        "Zuora has no such object; check the account or payment method id.",
    ),
    "INVALID_VALUE": (
        ErrorCode.PROVIDER_REJECTED,
        "Zuora refused a value (for example a closed payment method as the default).",
    ),
    "MISSING_REQUIRED_VALUE": (
        ErrorCode.PROVIDER_REJECTED,
        "Zuora needs a value that was not given.",
    ),
    "DUPLICATE_VALUE": (
        ErrorCode.PROVIDER_CONFLICT,
        "Zuora already has an object with this value.",
    ),
    "INVALID_LOGIN": (
        ErrorCode.PROVIDER_UNAVAILABLE,
        "The gateway cannot sign in to Zuora: check BG_ZUORA_USERNAME and BG_ZUORA_PASSWORD.",
    ),
    "NO_PERMISSION": (
        ErrorCode.PROVIDER_UNAVAILABLE,
        "The gateway's Zuora user lacks a permission this step needs.",
    ),
    "API_DISABLED": (
        ErrorCode.PROVIDER_UNAVAILABLE,
        "This Zuora tenant has the SOAP API disabled: use BG_ZUORA_TRANSPORT=rest.",
    ),
}
for _code in TRANSIENT:
    _TABLE[_code] = (
        ErrorCode.PROVIDER_UNAVAILABLE,
        "Zuora is busy or unavailable right now; the request can be retried with the same key.",
    )


def from_zuora_error(code: str, step: str) -> BillingError:
    """A BillingError for Zuora's `code`; unknown codes become internal errors that keep it."""
    mapped = _TABLE.get(code)
    if mapped is None:
        return BillingError(
            ErrorCode.INTERNAL_ERROR,
            f"Zuora answered {step} with an error the gateway does not know.",
            extra={"provider": "zuora", "provider_code": code},
        )
    error_code, detail = mapped
    # A busy Zuora is worth another try in a few seconds: say when, as 429s and 503s should.
    retry = {"Retry-After": "5"} if code in TRANSIENT else None
    return BillingError(
        error_code, detail, extra={"provider": "zuora", "provider_code": code}, headers=retry
    )


# REST reason codes are eight digits: a resource code, then a two-digit category.
_REST_CATEGORY: dict[int, str] = {
    10: "NO_PERMISSION",
    11: "INVALID_LOGIN",
    20: "INVALID_VALUE",
    21: "INVALID_VALUE",
    22: "MISSING_REQUIRED_VALUE",
    23: "MISSING_REQUIRED_VALUE",
    30: "RULE_RESTRICTION",
    40: "INVALID_ID",
    50: "LOCK_COMPETITION",
    61: "TEMPORARY_ERROR",
    70: "REQUEST_EXCEEDED_RATE",
}
TRANSIENT_REST_CATEGORIES = frozenset({50, 61, 70})


def rest_category(reason_code: int) -> int:
    return reason_code % 100


def from_zuora_reason(reason_code: int, step: str) -> BillingError:
    """A BillingError for a REST reason code, through the same table as SOAP's codes; the raw
    reason code is kept for the audit trail."""
    soap_code = _REST_CATEGORY.get(rest_category(reason_code))
    error = from_zuora_error(soap_code or "UNKNOWN_ERROR", step)
    error.extra["provider_code"] = str(reason_code)
    return error
