"""The Zuora callout check: Basic credentials and an HMAC over the timestamp and the exact
body, by any secret of a rotation, within the tolerance either way; and the callout and its
history entry read as the same neutral event."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from adapters.zuora.callouts import (
    CalloutAuth,
    basic_authorization,
    callout_event,
    event_from_history,
    sign_callout,
    verify_callout,
)
from gateway.core.errors import BillingError, ErrorCode

AUTH = CalloutAuth("zuora-callouts", "s3cret-password", ("new-secret", "old-secret"))
BODY = json.dumps(
    {
        "eventCategory": "PaymentProcessed",
        "eventTimestamp": "2026-12-05T10:00:00Z",
        "objectType": "Payment",
        "objectId": "8a8aa0b1",
        "accountId": "2c92c0f8",
        "accountNumber": "A-WRONG-CARD",
    }
).encode()

Headers = dict[str, str]


def headers(
    body: bytes = BODY,
    secret: str = "new-secret",  # noqa: S107 (a test secret)
    moment: int | None = None,
    password: str = "s3cret-password",  # noqa: S107 (a test password)
) -> Headers:
    timestamp, signature = sign_callout(body, secret, moment)
    return {
        "Authorization": basic_authorization("zuora-callouts", password),
        "X-Callout-Timestamp": timestamp,
        "X-Callout-Signature": signature,
        "Zuora-Notification-Id": "n-1",
    }


def check(body: bytes, given: Headers) -> None:
    verify_callout(body, given, AUTH, tolerance_seconds=300)


def test_a_genuine_callout_passes() -> None:
    check(BODY, headers())


def test_the_secret_being_rolled_out_and_the_one_rolled_off_both_pass() -> None:
    check(BODY, headers(secret="old-secret"))
    check(BODY, headers(secret="new-secret"))


def test_any_of_several_signatures_may_match() -> None:
    given = headers()
    given["X-Callout-Signature"] = "v1=" + "0" * 64 + ", " + given["X-Callout-Signature"]
    check(BODY, given)


def _one_byte_changed() -> tuple[bytes, Headers]:
    return BODY.replace(b"8a8aa0b1", b"8a8aa0b2"), headers()


def _wrong_password() -> tuple[bytes, Headers]:
    return BODY, headers(password="guessed")


def _no_basic() -> tuple[bytes, Headers]:
    given = headers()
    del given["Authorization"]
    return BODY, given


def _bearer_instead() -> tuple[bytes, Headers]:
    return BODY, {**headers(), "Authorization": "Bearer abc"}


def _unknown_secret() -> tuple[bytes, Headers]:
    return BODY, headers(secret="attacker")


def _no_signature() -> tuple[bytes, Headers]:
    given = headers()
    del given["X-Callout-Signature"]
    return BODY, given


def _no_timestamp() -> tuple[bytes, Headers]:
    given = headers()
    del given["X-Callout-Timestamp"]
    return BODY, given


def _stale() -> tuple[bytes, Headers]:
    return BODY, headers(moment=int(time.time()) - 301)


def _future() -> tuple[bytes, Headers]:
    return BODY, headers(moment=int(time.time()) + 301)


def _timestamp_swapped() -> tuple[bytes, Headers]:
    # The signature of another moment: the timestamp is signed too.
    given = headers()
    given["X-Callout-Timestamp"] = str(int(given["X-Callout-Timestamp"]) - 10)
    return BODY, given


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (_one_byte_changed, ErrorCode.WEBHOOK_SIGNATURE_INVALID),
        (_wrong_password, ErrorCode.WEBHOOK_SIGNATURE_INVALID),
        (_no_basic, ErrorCode.WEBHOOK_SIGNATURE_INVALID),
        (_bearer_instead, ErrorCode.WEBHOOK_SIGNATURE_INVALID),
        (_unknown_secret, ErrorCode.WEBHOOK_SIGNATURE_INVALID),
        (_no_signature, ErrorCode.WEBHOOK_SIGNATURE_INVALID),
        (_no_timestamp, ErrorCode.WEBHOOK_SIGNATURE_INVALID),
        (_stale, ErrorCode.WEBHOOK_TIMESTAMP_OUT_OF_RANGE),
        (_future, ErrorCode.WEBHOOK_TIMESTAMP_OUT_OF_RANGE),
        (_timestamp_swapped, ErrorCode.WEBHOOK_SIGNATURE_INVALID),
    ],
)
def test_refusals(tamper: Callable[[], tuple[bytes, Headers]], code: ErrorCode) -> None:
    body, given = tamper()
    with pytest.raises(BillingError) as refused:
        check(body, given)
    assert refused.value.code is code
    assert refused.value.status == 401


def test_the_handled_events_have_neutral_names() -> None:
    names = {
        category: callout_event("n", {"eventCategory": category, "objectId": "x"}).type
        for category in (
            "PaymentProcessed",
            "PaymentFailed",
            "RefundProcessed",
            "PaymentMethodClosed",
        )
    }
    assert names == {
        "PaymentProcessed": "payment.succeeded",
        "PaymentFailed": "payment.failed",
        "RefundProcessed": "refund.succeeded",
        "PaymentMethodClosed": "payment_method.closed",
    }
    assert callout_event("n", {"eventCategory": "InvoicePosted"}).type == "zuora.InvoicePosted"


def test_a_callout_and_its_history_entry_are_the_same_event() -> None:
    called = callout_event("n-1", json.loads(BODY))
    pulled = event_from_history(
        {
            "attemptedNum": 1,
            "createTime": "2026-12-05T10:00:01",
            "eventCategory": "2120",
            "eventContext": {
                "<Event.ID>": "n-1",
                "<Object.ID>": "8a8aa0b1",
                "<Account.ID>": "2c92c0f8",
                "<Event.Timestamp>": "2026-12-05T10:00:00.000+0000",
            },
            "responseCode": 503,
        }
    )
    same = ("provider", "event_id", "type", "object_type", "object_id", "account_id", "created")
    assert [getattr(pulled, name) for name in same] == [getattr(called, name) for name in same]
    assert (called.event_id, called.type, called.object_type) == (
        "n-1",
        "payment.succeeded",
        "payment",
    )


@pytest.mark.parametrize(
    ("notification_id", "body"),
    [(None, json.loads(BODY)), ("n", []), ("n", {"objectId": "x"}), ("", json.loads(BODY))],
)
def test_what_is_not_a_callout_is_refused(notification_id: str | None, body: object) -> None:
    with pytest.raises(ValueError, match="callout"):
        callout_event(notification_id, body)
