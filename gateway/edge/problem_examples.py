"""Fixed, realistic examples of problem bodies for the OpenAPI document: one per error code a
route answers with, built from gateway/problem_types.py (no random value, no personal data)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from litestar.openapi.spec import Example

from gateway.core.errors import HTTP_STATUS, ErrorCode
from gateway.problem_types import problem_type_of

# The host of the examples' `type` URLs: the gateway answers with the host it was called at.
EXAMPLE_BASE_URL = "https://billing-gateway.example.com"
EXAMPLE_REQUEST_ID = "9f1c2e4a7b3d4f6a8c0e2b4d6f8a0c1e"


# The example every status gets, besides the route's own codes.
_USUAL: dict[int, tuple[ErrorCode, ...]] = {
    400: (ErrorCode.VALIDATION_FAILED,),
    401: (ErrorCode.UNAUTHENTICATED,),
    403: (ErrorCode.FORBIDDEN,),
    404: (ErrorCode.NOT_FOUND,),
    409: (ErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS,),
    413: (ErrorCode.BODY_TOO_LARGE,),
    422: (ErrorCode.CARD_NUMBER_NOT_ACCEPTED,),
    429: (ErrorCode.RATE_LIMITED,),
    503: (ErrorCode.SERVICE_UNAVAILABLE,),
}

# What the gateway says in `detail` for the codes the examples show most; others show their
# meaning from gateway/problem_types.py.
_DETAILS: dict[ErrorCode, str] = {
    ErrorCode.VALIDATION_FAILED: "payload.targets: Expected `array`, got `str`",
    ErrorCode.UNAUTHENTICATED: "The API key is missing, unknown, revoked or expired; send "
    "`Authorization: Bearer <key>` with a valid key.",
    ErrorCode.FORBIDDEN: "This API key lacks the scope 'change-requests:write' needed here; "
    "ask an admin to issue a key with it.",
    ErrorCode.NOT_FOUND: "No resource lives at this path; check it against /schema.",
    ErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS: "A request with this Idempotency-Key is still "
    "being processed; retry shortly.",
    ErrorCode.BODY_TOO_LARGE: "The request body is over the 65536-byte limit; send less.",
    ErrorCode.CARD_NUMBER_NOT_ACCEPTED: "requester.name holds what looks like a card number "
    "(****4242); the gateway never accepts card numbers. Remove it and send the request again.",
    ErrorCode.RATE_LIMITED: "This API key sent more than 120 requests in a minute; retry after "
    "the Retry-After seconds.",
    ErrorCode.SERVICE_UNAVAILABLE: "The database does not answer; the gateway cannot serve "
    "requests. Retry after the Retry-After seconds.",
    ErrorCode.IBAN_CHECKSUM_FAILED: "The IBAN's check digits do not match the rest: a character "
    "was probably mistyped. Ask the customer to re-read it from their bank statement.",
    ErrorCode.CHANGE_REQUEST_NOT_FOUND: "No change request has the id "
    "0b8f3c52-6a1e-4c8e-9d2b-5f7a1c3e9d40.",
    ErrorCode.DUPLICATE_OPEN_REQUEST: "Ticket zendesk:1001 already has an open iban_change "
    "request (0b8f3c52-6a1e-4c8e-9d2b-5f7a1c3e9d40); update or cancel that one instead.",
    ErrorCode.INVALID_TRANSITION: "This request is applied; it can no longer be cancelled.",
    ErrorCode.PROVIDER_UNAVAILABLE: "Zuora is unavailable right now, so nothing was changed "
    "there; try again in 30 seconds.",
    ErrorCode.CHEQUE_ALREADY_RECORDED: "Cheque 0001234 of this customer is already recorded as "
    "OP-20261205-0007: the same cheque is entered once.",
    ErrorCode.CHEQUE_BATCH_TOTAL_MISMATCH: "The scanner's total (3500.00 EUR) differs from "
    "batch 2026-12-05 EUR OP #1 (3620.00 EUR) by 120.00 EUR; 1 cheque(s) were entered after "
    "the scan. The batch stays open: find the cheque missing or entered wrongly, then scan "
    "again.",
}

_EXTRAS: dict[ErrorCode, dict[str, Any]] = {
    ErrorCode.VALIDATION_FAILED: {
        "errors": [
            {"field": "payload.targets", "source": "body", "message": "Expected `array`, got `str`"}
        ]
    },
    ErrorCode.FORBIDDEN: {"required_scope": "change-requests:write"},
    ErrorCode.DUPLICATE_OPEN_REQUEST: {"existing_id": "0b8f3c52-6a1e-4c8e-9d2b-5f7a1c3e9d40"},
    ErrorCode.INVALID_TRANSITION: {"current_status": "applied"},
    ErrorCode.BLOCKED_BY_FRAUD_STOP: {"blocklist_entry_ids": [42]},
    ErrorCode.NOT_ON_BILLING_DAY: {"effective_on": "2026-01-15"},
    ErrorCode.CHEQUE_ALREADY_RECORDED: {"cheque_id": "5d0e6a8e-3f1b-4c2a-9e7d-1b2c3d4e5f60"},
    ErrorCode.CHEQUE_BATCH_TOTAL_MISMATCH: {
        "batch_total": {"amount_minor": 362000, "currency": "EUR"},
        "scanner_total": {"amount_minor": 350000, "currency": "EUR"},
        "difference": {"amount_minor": 12000, "currency": "EUR"},
        "cheques_since_scan": [
            {
                "id": "5d0e6a8e-3f1b-4c2a-9e7d-1b2c3d4e5f60",
                "number": "OP-20261205-0007",
                "reference": "0001234",
                "amount": {"amount_minor": 12000, "currency": "EUR"},
                "entered_at": "2026-12-05T16:41:09Z",
            }
        ],
    },
    ErrorCode.PROVIDER_REJECTED: {
        "provider": "zuora",
        "provider_code": "53100020",
        "provider_request_id": "2b7e1c9a-5d4f-4e3a-9b8c-7d6e5f4a3b2c",
    },
}


def problem_example(code: ErrorCode, instance: str = "/v1/change-requests") -> dict[str, Any]:
    """A problem body as the gateway sends it for `code` (fixed values, masked data)."""
    explained = problem_type_of(code)
    return {
        "type": f"{EXAMPLE_BASE_URL}/problems/{code.value}",
        "title": explained.title,
        "status": HTTP_STATUS[code],
        "detail": _DETAILS.get(code, explained.meaning),
        "code": code.value,
        "instance": instance,
        "request_id": EXAMPLE_REQUEST_ID,
        **_EXTRAS.get(code, {}),
    }


@dataclass
class _KeyedExample(Example):
    """An example keyed by its `id` in the document (the code), without `id` in it: the
    OpenAPI Example Object has no such field."""

    @property
    def _exclude_fields(self) -> set[str]:
        return {"id"}


def problem_examples(
    status: int, codes: Iterable[ErrorCode | str], *, usual: bool
) -> list[Example]:
    """The examples of one status: `codes` (those with this status), then with `usual` the
    code every route shows for it (unauthenticated for 401 ...), each keyed by its code."""
    chosen = [ErrorCode(code) for code in codes]
    chosen += [code for code in _USUAL.get(status, ()) if usual and code not in chosen]
    return [
        _KeyedExample(
            id=code.value,
            summary=problem_type_of(code).title,
            value=problem_example(code),
        )
        for code in chosen
        if HTTP_STATUS[code] == status
    ]
