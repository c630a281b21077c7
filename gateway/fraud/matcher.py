"""The in-process copy of the fraud blocklist: it screens a request's card, IP or email in
under a microsecond with a million entries held.

Exact kinds are dict lookups on the canonical value. IP addresses and networks are held as
integers by `gateway.fraud.networks`: a byte per /24 block settles most lookups, IPv6 networks
also as sorted disjoint intervals. There every candidate is confirmed against the entries
held; here, against their expiry.

An IPv4-mapped IPv6 query (::ffff:1.2.3.4) is screened as the IPv4 address 1.2.3.4 only: IPv4
entries block it, IPv6 networks (even ::/0) do not.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from gateway.fraud.networks import Ids, IpFamilies, Live, Screen, add_id, discard_id, ids_of
from gateway.fraud.normalise import (
    KINDS,
    NORMALISERS,
    OPAQUE_MAX_LENGTH,
    InvalidBlocklistValue,
    normalise,
    normalise_card_bin,
    normalise_email,
    normalise_ip_range,
    unknown_kind,
)

__all__ = ["KINDS", "InvalidBlocklistValue", "Matcher", "normalise"]

Row = tuple[int, str, str, float | None]

OPAQUE_KINDS = ("card_fingerprint", "iban", "customer")
EXACT_KINDS = (*OPAQUE_KINDS, "card_bin", "email")


def _live_check(expires: dict[int, float]) -> Live:
    """Whether any of the ids is unexpired at `now` (default: the clock)."""

    def live(found: Ids, now: float | None) -> bool:
        if isinstance(found, int):
            deadline = expires.get(found)
            return deadline is None or deadline > (time.time() if now is None else now)
        clock = time.time() if now is None else now
        return any(expires.get(entry_id, clock + 1) > clock for entry_id in found)

    return live


class Matcher:
    """The blocklist held in memory; `blocked` is the hot path.

    Not thread-safe, by design: the service calls `upsert`, `remove` and the lookups from the
    event loop's thread only, so no lock is taken anywhere.
    """

    def __init__(self) -> None:
        self._values: dict[str, dict[int, str]] = {kind: {} for kind in KINDS}
        self._exact: dict[str, dict[str, Ids]] = {kind: {} for kind in EXACT_KINDS}
        self._expires: dict[int, float] = {}  # only entries that expire
        self._live = _live_check(self._expires)
        self._ip = IpFamilies()
        self._screens: dict[str, Screen] = {
            kind: self._opaque_screen(kind) for kind in OPAQUE_KINDS
        }
        self._screens["email"] = self._email_screen()
        self._screens["card_bin"] = self._card_bin_screen()
        self._screens["ip"] = self._ip.address_screen(self._live)
        self._screens["ip_range"] = self._ip_range_screen()
        # No screen refers to `self`: a replaced matcher is freed at once, not by the GC.

    def upsert(self, rows: Iterable[Row]) -> None:
        """Add or replace entries (entry_id, kind, value, expires_at epoch seconds or None).

        Values are normalised again, so a row in an older canonical form still matches. Every
        row is checked before any is applied: one invalid row raises and changes nothing.
        """
        prepared = [_prepared(row) for row in rows]
        for entry_id, kind, value, expires_at in prepared:
            self._forget(entry_id)
            self._values[kind][entry_id] = value
            self._index(entry_id, kind, value)
            if expires_at is not None:
                self._expires[entry_id] = expires_at
        self._ip.end_of_batch()

    def remove(self, entry_ids: Iterable[int]) -> None:
        """Drop entries by id; ids not held are ignored."""
        for entry_id in entry_ids:
            self._forget(entry_id)
        self._ip.end_of_batch()

    def match(self, kind: str, value: str, now: float | None = None) -> list[int]:
        """The sorted ids of the live entries matching `value`, the `kind` being screened.

        "ip" matches ip entries equal to it and every ip_range containing it; an 8-digit
        "card_bin" also matches 6-digit entries of its first 6 digits. Any other kind matches
        entries of that kind whose canonical value is equal. Live: no expiry, or one after `now`.
        """
        clock = time.time() if now is None else now
        expires = self._expires
        return sorted(
            entry_id
            for found in self._candidates(kind, value)
            for entry_id in ids_of(found)
            if expires.get(entry_id, clock + 1) > clock
        )

    def blocked(self, kind: str, value: str, now: float | None = None) -> bool:
        """Whether any live entry matches: `match(...) != []`, only much faster."""
        try:
            screen = self._screens[kind]
        except KeyError:
            raise unknown_kind(kind) from None
        return screen(value, now)

    def __len__(self) -> int:
        """Entries held, expired ones included until they are removed."""
        return sum(len(values) for values in self._values.values())

    # The screens repeat the common case of their normaliser inline: a call less per lookup.

    def _opaque_screen(self, kind: str) -> Screen:
        index, canonical, live = self._exact[kind], NORMALISERS[kind], self._live

        def screen(value: str, now: float | None) -> bool:
            text = value.strip()
            if not 0 < len(text) <= OPAQUE_MAX_LENGTH:
                canonical(value)  # raises, with the sentence for the agent
            found = index.get(text)
            return found is not None and live(found, now)

        return screen

    def _email_screen(self) -> Screen:
        index, live = self._exact["email"], self._live

        def screen(value: str, now: float | None) -> bool:
            found = index.get(normalise_email(value))
            return found is not None and live(found, now)

        return screen

    def _card_bin_screen(self) -> Screen:
        index, live = self._exact["card_bin"], self._live

        def screen(value: str, now: float | None) -> bool:
            if len(value) == 8 and value.isdigit() and value.isascii():
                digits = value
            else:
                digits = normalise_card_bin(value)
            found = index.get(digits)
            if found is not None and live(found, now):
                return True
            found = index.get(digits[:6]) if len(digits) == 8 else None
            return found is not None and live(found, now)

        return screen

    def _ip_range_screen(self) -> Screen:
        held_network, live = self._ip.held_network, self._live

        def screen(value: str, now: float | None) -> bool:
            found = held_network(normalise_ip_range(value))
            return found is not None and live(found, now)

        return screen

    def _candidates(self, kind: str, value: str) -> Iterator[Ids | None]:
        if kind == "ip":
            family, number = self._ip.address(value)
            yield family.addresses.get(number)
            yield from family.containing(number)
        elif kind == "card_bin":
            digits = normalise_card_bin(value)
            yield self._exact[kind].get(digits)
            if len(digits) == 8:
                yield self._exact[kind].get(digits[:6])
        elif kind == "ip_range":
            yield self._ip.held_network(normalise_ip_range(value))
        else:
            canonical = normalise(kind, value)  # first: it names an unknown kind
            yield self._exact[kind].get(canonical)

    def _index(self, entry_id: int, kind: str, value: str) -> None:
        if kind == "ip":
            family, number = self._ip.address(value)
            family.add_address(number, entry_id)
        elif kind == "ip_range":
            family, length, number = self._ip.network(value)
            family.add_network(length, number, entry_id)
        else:
            add_id(self._exact[kind], value, entry_id)

    def _forget(self, entry_id: int) -> None:
        for kind, values in self._values.items():
            value = values.pop(entry_id, None)
            if value is None:
                continue
            self._expires.pop(entry_id, None)
            if kind == "ip":
                family, number = self._ip.address(value)
                family.discard_address(number, entry_id)
            elif kind == "ip_range":
                family, length, number = self._ip.network(value)
                family.discard_network(length, number, entry_id)
            else:
                discard_id(self._exact[kind], value, entry_id)
            return


def _prepared(row: Row) -> Row:
    entry_id, kind, value, expires_at = row
    try:
        return entry_id, kind, normalise(kind, value), expires_at
    except InvalidBlocklistValue as error:
        raise InvalidBlocklistValue(f"entry {entry_id}: {error}") from None
