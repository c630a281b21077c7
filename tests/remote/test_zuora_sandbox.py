"""Against a real Zuora sandbox, only when its credentials are given; records what it saw into
`tests/remote/cassettes/sandbox-<transport>.yaml`, scrubbed (password, session, OAuth secret and
token, IBANs), so that a change in Zuora's answers can be replayed and studied offline.

    ZUORA_SANDBOX_TRANSPORT=rest  ZUORA_SANDBOX_URL=https://rest.sandbox.eu.zuora.com \\
    ZUORA_SANDBOX_USER=<client id or API user>  ZUORA_SANDBOX_SECRET=<client secret or password> \\
    ZUORA_SANDBOX_ACCOUNT=<an account number with an active subscription> \\
    .venv/bin/pytest tests/remote/test_zuora_sandbox.py

It reads the account and previews a tier change: it changes nothing in the tenant.
"""

from __future__ import annotations

import os

import pytest

from tests.remote.adapters import zuora_adapter
from tests.remote.cassettes import CASSETTES, provider_vcr
from tests.remote.flows import read_and_preview

NEEDED = (
    "ZUORA_SANDBOX_URL",
    "ZUORA_SANDBOX_USER",
    "ZUORA_SANDBOX_SECRET",
    "ZUORA_SANDBOX_ACCOUNT",
)
missing = [name for name in NEEDED if not os.environ.get(name)]

pytestmark = [
    pytest.mark.remote,
    pytest.mark.skipif(
        bool(missing), reason=f"no Zuora sandbox credentials given ({', '.join(missing)} unset)"
    ),
]


async def test_reading_a_real_account_and_previewing_a_tier_change() -> None:
    transport = os.environ.get("ZUORA_SANDBOX_TRANSPORT", "soap")
    user, secret = os.environ["ZUORA_SANDBOX_USER"], os.environ["ZUORA_SANDBOX_SECRET"]
    name = f"sandbox-{transport}.yaml"
    with provider_vcr(record_mode="all").use_cassette(name):
        zuora = zuora_adapter(transport, os.environ["ZUORA_SANDBOX_URL"], user, secret)
        try:
            methods, preview, subscription = await read_and_preview(
                zuora,
                os.environ["ZUORA_SANDBOX_ACCOUNT"],
                seats=int(os.environ.get("ZUORA_SANDBOX_SEATS", "2")),
            )
        finally:
            await zuora.close()
    assert subscription.charges and preview.recurring_after.currency
    assert all(method.masked is None or "****" in method.masked for method in methods)
    recorded = (CASSETTES / name).read_text()
    assert secret not in recorded and user not in recorded
