"""Replay, offline, the cassettes recorded from the emulator (`make cassettes`): the adapter's
whole conversation for the IBAN change and the tier change, through each transport, must still
lead to the same outcome. A change to what the adapter sends or expects shows here first."""

from __future__ import annotations

import re

import pytest

from adapters.ports import Money
from tests.remote.adapters import zuora_adapter
from tests.remote.cassettes import CASSETTES, REPLAY_BASE, SCRUBBED, zuora_vcr
from tests.remote.flows import NEW_IBAN, iban_and_tier_change


@pytest.mark.parametrize("transport", ["soap", "rest"])
async def test_the_recorded_conversation_replays(transport: str) -> None:
    with zuora_vcr(record_mode="none").use_cassette(f"emulator-{transport}.yaml") as cassette:
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


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.yaml")), ids=lambda path: path.name)
def test_cassettes_hold_no_secret_and_no_iban(path: object) -> None:
    text = CASSETTES.joinpath(str(path)).read_text()
    for secret in (
        "emulator-password",
        "emulator-secret",
        "api@example.com",
        "sk_test_emulator",
        NEW_IBAN,
    ):
        assert secret not in text
    assert not re.search(r"Bearer [A-Za-z0-9_\-]{8,}", text)
    assert "FR76 3000" not in text
