"""Replay, offline, the cassettes recorded from the emulator (`make cassettes`): the adapter's
whole conversation for the IBAN change and the tier change, through each transport, must still
lead to the same outcome. A change to what the adapter sends or expects shows here first."""

from __future__ import annotations

import pytest

from adapters.ports import Money
from adapters.provider import SCRUBBED
from tests.remote.adapters import zuora_adapter
from tests.remote.cassettes import REPLAY_BASE, provider_vcr
from tests.remote.flows import iban_and_tier_change


@pytest.mark.parametrize("transport", ["soap", "rest"])
async def test_the_recorded_conversation_replays(transport: str) -> None:
    with provider_vcr(record_mode="none").use_cassette(f"emulator-{transport}.yaml") as cassette:
        zuora = zuora_adapter(transport, REPLAY_BASE, SCRUBBED, SCRUBBED)
        try:
            seen = await iban_and_tier_change(zuora, "A00000101", seats=4)
        finally:
            await zuora.close()
        assert cassette.all_played, "the adapter skipped part of the recorded conversation"
    [old] = seen.methods_before
    after = {method.id: method for method in seen.methods_after}
    assert not after[old.id].active and not after[old.id].is_default
    [new] = [method for method in seen.methods_after if method.is_default]
    assert new.masked == "FR****0189" and new.mandate_id == "BG-CASSETTE-1"
    assert seen.preview.recurring_before == Money(3 * 2900, "EUR")
    assert seen.preview.recurring_after == Money(4 * 2900, "EUR")
    assert seen.subscription_after is not None and seen.subscription_after.version == 2
