"""Entry MACs (`audit.mac`): each unique, each checked, and made in the order entries are
written, so that the unique index refusing copies grows at its end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from audit.mac import FIELDS, entry_mac, mac_matches

ACTION = "change_request.process.succeeded"
FIELD_VALUES: list[str | None] = ["staff", "7", ACTION, "change_request", "cr-1", None, "cus_1"]
FIELD_VALUES.append("v1:aes256gcm:dk-0123456789ab:c2VhbGVk")  # the payload


def _row(mac: str, occurred: datetime) -> dict[str, object]:
    return {**dict(zip(FIELDS, FIELD_VALUES, strict=True)), "occurred_at": occurred, "mac": mac}


def test_the_same_entry_twice_gets_two_macs_each_of_which_matches() -> None:
    occurred = datetime.now(UTC)
    first, second = entry_mac(occurred, FIELD_VALUES), entry_mac(occurred, FIELD_VALUES)
    assert first != second
    assert mac_matches(_row(first, occurred)) and mac_matches(_row(second, occurred))
    version, nonce, digest = first.split(":")
    assert (version, len(nonce), len(digest)) == ("v1", 32, 64)


def test_a_changed_field_or_time_no_longer_matches() -> None:
    occurred = datetime.now(UTC)
    mac = entry_mac(occurred, FIELD_VALUES)
    assert not mac_matches({**_row(mac, occurred), "target_id": "cr-2"})
    assert not mac_matches(_row(mac, occurred.replace(microsecond=occurred.microsecond ^ 1)))


def test_a_mac_starts_with_its_entrys_time_so_the_unique_index_grows_at_its_end() -> None:
    occurred = datetime(2026, 12, 5, 21, 0, 0, 123_456, tzinfo=UTC)
    macs = [entry_mac(occurred + timedelta(microseconds=step), FIELD_VALUES) for step in (0, 1)]
    micros = (occurred - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert macs[0].startswith(f"v1:{micros:014x}")
    assert macs[0] < macs[1]
    assert entry_mac(occurred, FIELD_VALUES) != macs[0]  # the random part still differs


def test_each_field_the_mac_covers_changed_alone_no_longer_matches() -> None:
    occurred = datetime.now(UTC)
    row = _row(entry_mac(occurred, FIELD_VALUES), occurred)
    for name in FIELDS:
        assert not mac_matches({**row, name: f"{row[name]}x"}), name
