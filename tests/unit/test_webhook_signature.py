"""The webhook signature check against Stripe's own library, both ways, and its edges."""

from __future__ import annotations

import time

import pytest
import stripe

from adapters.stripe.emulator.signing import sign
from adapters.stripe.signature import verify_stripe_signature
from gateway.core.errors import BillingError, ErrorCode

BODY = b'{"id": "evt_1", "object": "event", "type": "setup_intent.succeeded"}'


def test_our_signature_is_the_one_stripes_library_accepts() -> None:
    stripe.WebhookSignature.verify_header(BODY.decode(), sign(BODY, "whsec_a"), "whsec_a", 300)


def test_stripes_signature_is_one_we_accept() -> None:
    moment = int(time.time())
    digest = stripe.WebhookSignature._compute_signature(f"{moment}.{BODY.decode()}", "whsec_a")
    verify_stripe_signature(
        BODY, f"t={moment},v1=deadbeef,v1={digest}", ["whsec_a"], tolerance_seconds=300
    )


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, ErrorCode.WEBHOOK_SIGNATURE_INVALID),
        ("v1=abc", ErrorCode.WEBHOOK_SIGNATURE_INVALID),
        ("other-secret", ErrorCode.WEBHOOK_SIGNATURE_INVALID),
        ("400-seconds-old", ErrorCode.WEBHOOK_TIMESTAMP_OUT_OF_RANGE),
        ("400-seconds-ahead", ErrorCode.WEBHOOK_TIMESTAMP_OUT_OF_RANGE),
    ],
)
def test_refusals(header: str | None, code: ErrorCode) -> None:
    # Signed when the test runs, not when it is collected: a long run must not age them.
    signed = {
        "other-secret": lambda: sign(BODY, "whsec_other"),
        "400-seconds-old": lambda: sign(BODY, "whsec_a", int(time.time()) - 400),
        "400-seconds-ahead": lambda: sign(BODY, "whsec_a", int(time.time()) + 400),
    }
    if header in signed:
        header = signed[header]()
    with pytest.raises(BillingError) as refused:
        verify_stripe_signature(BODY, header, ["whsec_a"], tolerance_seconds=300)
    assert refused.value.code is code
