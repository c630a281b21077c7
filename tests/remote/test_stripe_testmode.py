"""Against Stripe itself in test mode, only when a test key is given; records what it saw into
`tests/remote/cassettes/testmode-stripe.yaml`, scrubbed (the key, IBANs).

    STRIPE_TEST_KEY=sk_test_...  STRIPE_TEST_BACKOFFICE_ID=<metadata backoffice_id of a customer> \\
    .venv/bin/pytest -m remote tests/remote/test_stripe_testmode.py

It reads one customer and its payment methods: it changes nothing in the account.
"""

from __future__ import annotations

import os

import pytest

from adapters.stripe.adapter import StripeAdapter
from adapters.stripe.client import StripeConfig
from tests.remote.cassettes import CASSETTES, provider_vcr
from tests.remote.stripe_flows import read_customer

KEY = os.environ.get("STRIPE_TEST_KEY", "")
pytestmark = [
    pytest.mark.remote,
    pytest.mark.skipif(
        not KEY.startswith("sk_test_") or not os.environ.get("STRIPE_TEST_BACKOFFICE_ID"),
        reason="no Stripe test-mode key given (STRIPE_TEST_KEY=sk_test_..., "
        "STRIPE_TEST_BACKOFFICE_ID)",
    ),
]


async def test_reading_a_real_test_mode_customer() -> None:
    name = "testmode-stripe.yaml"
    with provider_vcr(record_mode="all").use_cassette(name):
        stripe = StripeAdapter(StripeConfig(KEY))
        try:
            methods = await read_customer(stripe, os.environ["STRIPE_TEST_BACKOFFICE_ID"])
        finally:
            await stripe.close()
    assert all(method.masked is None or "****" in method.masked for method in methods)
    assert KEY not in (CASSETTES / name).read_text()
