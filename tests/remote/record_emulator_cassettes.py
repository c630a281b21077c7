"""Record the cassettes that `test_*_cassettes.py` replay: the IBAN change and the tier change
through each Zuora transport, and the SEPA change through Stripe, against the emulators over
loopback HTTP.

    .venv/bin/python -m tests.remote.record_emulator_cassettes   (or: make cassettes)

Re-record when the adapter's conversation with Zuora changes on purpose.
"""

from __future__ import annotations

import asyncio

from adapters.stripe.adapter import StripeAdapter
from adapters.stripe.client import StripeConfig
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.seed import seed_demo as seed_stripe
from adapters.stripe.emulator.state import StripeAccount
from adapters.zuora.emulator.app import create_emulator
from adapters.zuora.emulator.seed import seed_demo
from adapters.zuora.emulator.state import Tenant
from tests.emulators import serve
from tests.remote.adapters import zuora_adapter
from tests.remote.cassettes import CASSETTES, provider_vcr
from tests.remote.flows import iban_and_tier_change
from tests.remote.stripe_flows import sepa_change


async def record(transport: str) -> None:
    tenant = Tenant()
    seed_demo(tenant)
    secret = tenant.client_secret if transport == "rest" else tenant.password
    user = tenant.client_id if transport == "rest" else tenant.username
    with serve(create_emulator(tenant)) as base:
        path = CASSETTES / f"emulator-{transport}.yaml"
        path.unlink(missing_ok=True)
        with provider_vcr(record_mode="all", rewrite_host=True).use_cassette(path.name):
            zuora = zuora_adapter(transport, base, user, secret)
            try:
                await iban_and_tier_change(zuora, "A00000101", seats=4)
            finally:
                await zuora.close()
    print(f"recorded {path}")


async def record_stripe() -> None:
    account = StripeAccount()
    seed_stripe(account)
    with serve(create_stripe_emulator(account)) as base:
        path = CASSETTES / "emulator-stripe.yaml"
        path.unlink(missing_ok=True)
        with provider_vcr(record_mode="all", rewrite_host=True).use_cassette(path.name):
            stripe = StripeAdapter(StripeConfig(account.api_key, base))
            try:
                await sepa_change(stripe, "shop-101")
            finally:
                await stripe.close()
    print(f"recorded {path}")


if __name__ == "__main__":
    for name in ("soap", "rest"):
        asyncio.run(record(name))
    asyncio.run(record_stripe())
