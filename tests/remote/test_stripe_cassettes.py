"""Replay, offline, the SEPA change recorded from the Stripe emulator (`make cassettes`)."""

from __future__ import annotations

from adapters.provider import SCRUBBED
from adapters.stripe.adapter import StripeAdapter
from adapters.stripe.client import StripeConfig
from tests.remote.cassettes import REPLAY_BASE, provider_vcr
from tests.remote.stripe_flows import sepa_change


async def test_the_recorded_stripe_conversation_replays() -> None:
    with provider_vcr(record_mode="none").use_cassette("emulator-stripe.yaml") as cassette:
        stripe = StripeAdapter(StripeConfig(f"sk_test_{SCRUBBED}", REPLAY_BASE))
        try:
            seen = await sepa_change(stripe, "shop-101")
        finally:
            await stripe.close()
        assert cassette.all_played, "the adapter skipped part of the recorded conversation"
    [old] = seen.before
    [new] = seen.after
    assert new.id != old.id and new.is_default and new.masked == "FR****0189"
