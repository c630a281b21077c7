"""The in-process copy of the fraud blocklist: it screens a request's card, IP or email in
under a microsecond with a million entries held.

Exact kinds are dict lookups on the canonical value. IP addresses become integers through
`inet_pton`, about 0.2 microseconds (`ipaddress` takes over 1). Each IP version keeps:
- the truth: single addresses in a dict, networks in one dict per prefix length;
- `blocks`, one byte per /24 of IPv4 (per /24 of IPv6 too), set wherever something held may
  lie, so that most lookups end at one index;
- for IPv6, whose /24s are far too wide to settle much, the union of all networks as sorted
  disjoint intervals searched with `bisect`, plus a small union of those added since.
Removed and expired entries may linger in the blocks and unions. That is safe: those only make
candidates, and each candidate is confirmed against the dicts. They are rebuilt once enough
changes have accumulated, never on every upsert.

An IPv4-mapped IPv6 query (::ffff:1.2.3.4) is screened as the IPv4 address 1.2.3.4 only: IPv4
entries block it, IPv6 networks (even ::/0) do not.
"""

from __future__ import annotations

import mmap
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Iterable, Iterator
from itertools import accumulate
from socket import AF_INET, AF_INET6, inet_pton
from typing import TypeVar

from gateway.fraud.normalise import (
    KINDS,
    NORMALISERS,
    OPAQUE_MAX_LENGTH,
    InvalidBlocklistValue,
    canonical_address,
    normalise,
    normalise_card_bin,
    normalise_email,
    normalise_ip_range,
    unknown_kind,
)

__all__ = ["KINDS", "InvalidBlocklistValue", "Matcher", "normalise"]

Ids = int | tuple[int, ...]  # nearly every value has one entry; a tuple only for duplicates
Row = tuple[int, str, str, float | None]
Key = TypeVar("Key", bound=Hashable)
Screen = Callable[[str, "float | None"], bool]
Live = Callable[[Ids, "float | None"], bool]

OPAQUE_KINDS = ("card_fingerprint", "iban", "customer")
EXACT_KINDS = (*OPAQUE_KINDS, "card_bin", "email")
MIN_CHANGES_BEFORE_REBUILD = 4096
MAX_STALE_BLOCKS = 1 << 16  # as many as an IPv4 /8 covers: 1 lookup in 256 slowed
BUCKET_BITS = 16  # the settled union is indexed by the top 16 bits of an address
V4_MAPPED_PREFIX = 0xFFFF  # the top 96 bits of ::ffff:a.b.c.d
V4_MASK = 0xFFFFFFFF
BLOCK_BITS = 24  # an address's block: its top 24 bits


def _add(index: dict[Key, Ids], key: Key, entry_id: int) -> None:
    found = index.get(key)
    if found is None:
        index[key] = entry_id
    elif isinstance(found, int):
        index[key] = (found, entry_id)
    else:
        index[key] = (*found, entry_id)


def _discard(index: dict[Key, Ids], key: Key, entry_id: int) -> None:
    found = index.pop(key)
    rest = tuple(other for other in _as_tuple(found) if other != entry_id)
    if rest:
        index[key] = rest[0] if len(rest) == 1 else rest


def _as_tuple(found: Ids | None) -> tuple[int, ...]:
    if found is None:
        return ()
    return (found,) if isinstance(found, int) else found


class _Union:
    """Sorted, disjoint [start, end] intervals. A sentinel interval [-2, -2] spares a bounds
    check; -2, not -1, so that an interval starting at 0 is never merged into it."""

    def __init__(self, intervals: Iterable[tuple[int, int]] = ()) -> None:
        self.starts, self.ends = [-2], [-2]
        for start, end in sorted(intervals):
            if start <= self.ends[-1] + 1:  # overlapping or adjacent: one interval
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def insert(self, start: int, end: int) -> None:
        """Merge one interval in: two binary searches and a memmove, no re-sort."""
        first = bisect_left(self.ends, start - 1)
        after = bisect_right(self.starts, end + 1)
        if first < after:
            start = min(start, self.starts[first])
            end = max(end, self.ends[after - 1])
        self.starts[first:after] = [start]
        self.ends[first:after] = [end]


class _Settled(_Union):
    """A union that no longer changes, with the first candidate index for each bucket of
    addresses, so that a search looks at a handful of intervals instead of all of them."""

    def __init__(self, bits: int, intervals: Iterable[tuple[int, int]] = ()) -> None:
        super().__init__(intervals)
        self.shift = bits - BUCKET_BITS
        # lows[b] = bisect_right(starts, b << shift): the starts in buckets before b, plus any
        # at b's first address. One pass over the starts, not 65,537 binary searches.
        counts = [0] * ((1 << BUCKET_BITS) + 1)
        for start in self.starts:
            counts[-(-start >> self.shift)] += 1  # the first bucket whose first address >= start
        self.lows = list(accumulate(counts))


def _zeroed_blocks() -> mmap.mmap:
    # Anonymous memory: the kernel hands out zero pages as they are first written, so an
    # empty or sparse map costs next to nothing (a bytearray would fault in all 16 MB).
    return mmap.mmap(-1, 1 << BLOCK_BITS)


class _Family:
    """The addresses and networks of one IP version, as integers.

    `blocks` has one byte per 1/2**24th of the address space (a /24 in IPv4), set when a held
    address or network may lie in it: most lookups end at that one index. It takes 16 MB at
    most, of which only the pages written are resident. Removals leave their bytes set until
    the next rebuild; a set byte only makes a candidate, which `holds_live` confirms.
    """

    def __init__(self, bits: int) -> None:
        self.bits = bits
        self.block_shift = bits - BLOCK_BITS
        self.blocks = _zeroed_blocks()
        self.addresses: dict[int, Ids] = {}
        self.networks: dict[int, dict[int, Ids]] = {}  # prefix length -> {network >> shift: ids}
        self.tables: list[tuple[int, dict[int, Ids]]] = []  # (shift, networks), to confirm
        self.networks_held = 0
        self.changes = 0  # since the last rebuild
        self.stale_blocks = 0  # blocks set by what was removed since: false candidates

    def add_address(self, number: int, entry_id: int) -> None:
        _add(self.addresses, number, entry_id)
        self.blocks[number >> self.block_shift] = 1

    def discard_address(self, number: int, entry_id: int) -> None:
        _discard(self.addresses, number, entry_id)
        self.changes += 1
        self.stale_blocks += 1

    def add_network(self, length: int, number: int, entry_id: int) -> None:
        if length not in self.networks:
            self.networks[length] = {}
            self._index_tables()
        _add(self.networks[length], number >> (self.bits - length), entry_id)
        self.networks_held += 1
        self._mark(length, number)  # takes effect at once: an addition needs no rebuild

    def discard_network(self, length: int, number: int, entry_id: int) -> None:
        networks = self.networks[length]
        _discard(networks, number >> (self.bits - length), entry_id)
        if not networks:
            del self.networks[length]
            self._index_tables()
        self.networks_held -= 1
        self.changes += 1
        self.stale_blocks += 1 << max(0, BLOCK_BITS - length)

    def _index_tables(self) -> None:
        self.tables = [(self.bits - length, table) for length, table in self.networks.items()]

    def _mark(self, length: int, number: int) -> None:
        first, count = number >> self.block_shift, 1 << max(0, BLOCK_BITS - length)
        self.blocks[first : first + count] = b"\x01" * count

    def held_networks(self) -> Iterator[tuple[int, int]]:
        """(prefix length, network number) of every network held."""
        for length, table in self.networks.items():
            for key in table:
                yield length, key << (self.bits - length)

    def containing(self, number: int) -> Iterator[Ids]:
        """The ids of every held network containing `number`, one group per prefix length."""
        for shift, table in self.tables:
            found = table.get(number >> shift)
            if found is not None:
                yield found

    def holds_live(self, number: int, now: float | None, live: Live) -> bool:
        """Whether a live address or network held is, or contains, `number`."""
        found = self.addresses.get(number)
        if found is not None and live(found, now):
            return True
        if not self.may_be_in_network(number):
            return False
        return any(live(found, now) for found in self.containing(number))

    def may_be_in_network(self, number: int) -> bool:
        return True  # IPv4: the /24 block was as close as it is worth looking

    def end_of_batch(self) -> None:
        # Removing a wide network (0.0.0.0/0 blocked by mistake) must not leave most lookups
        # confirming candidates, so stale blocks have their own, low, limit. Otherwise a
        # rebuild, O(n log n), waits for n / 2 changes: O(log n) a change.
        held = len(self.addresses) + self.networks_held
        limit = max(MIN_CHANGES_BEFORE_REBUILD, held // 2)
        if self.changes > limit or self.stale_blocks > MAX_STALE_BLOCKS:
            self.rebuild()

    def rebuild(self) -> None:
        self.blocks = _zeroed_blocks()
        for number in self.addresses:
            self.blocks[number >> self.block_shift] = 1
        for length, number in self.held_networks():
            self._mark(length, number)
        self.changes = self.stale_blocks = 0


class _V6Family(_Family):
    """IPv6 blocks are too coarse (/24) to settle most candidates, so networks are also held
    as a union of intervals, `settled` at the last rebuild; those added since are merged into
    a small `fresh` union at the end of each batch, or trigger the rebuild."""

    def __init__(self) -> None:
        super().__init__(128)
        self.settled, self.fresh = _Settled(128), _Union()
        self.added: list[tuple[int, int]] = []  # in this batch

    def add_network(self, length: int, number: int, entry_id: int) -> None:
        super().add_network(length, number, entry_id)
        self.added.append((number, number | ((1 << (128 - length)) - 1)))
        self.changes += 1

    def may_be_in_network(self, number: int) -> bool:
        settled, fresh = self.settled, self.fresh
        lows, bucket = settled.lows, number >> settled.shift
        index = bisect_right(settled.starts, number, lows[bucket], lows[bucket + 1]) - 1
        if number <= settled.ends[index]:
            return True
        return (
            len(fresh.starts) > 1 and number <= fresh.ends[bisect_right(fresh.starts, number) - 1]
        )

    def end_of_batch(self) -> None:
        if len(self.added) > MIN_CHANGES_BEFORE_REBUILD:
            self.rebuild()  # cheaper than merging each one in
        super().end_of_batch()  # a rebuild empties `added`
        for start, end in self.added:
            self.fresh.insert(start, end)
        self.added = []

    def rebuild(self) -> None:
        super().rebuild()
        intervals = ((start, start | ((1 << (128 - n)) - 1)) for n, start in self.held_networks())
        self.settled, self.fresh, self.added = _Settled(128, intervals), _Union(), []


class _Families:
    """IPv4 and IPv6, and the parsing of text into one of them."""

    def __init__(self) -> None:
        self.v4, self.v6 = _Family(32), _V6Family()

    def address(self, value: str) -> tuple[_Family, int]:
        """The family and number of an address; IPv4-mapped IPv6 counts as IPv4."""
        try:
            if ":" not in value:
                return self.v4, int.from_bytes(inet_pton(AF_INET, value), "big")
            number = int.from_bytes(inet_pton(AF_INET6, value), "big")
        except (OSError, ValueError):  # not canonical: spaces, a zone, or not an address
            address = canonical_address(value)
            return (self.v4 if address.version == 4 else self.v6), int(address)
        if number >> 32 == V4_MAPPED_PREFIX:
            return self.v4, number & V4_MASK
        return self.v6, number

    def network(self, text: str) -> tuple[_Family, int, int]:
        """The family, prefix length and number of a network in canonical text."""
        address, _, length = text.partition("/")
        family, number = self.address(address)  # canonical: never IPv4-mapped
        return family, int(length), number

    def held_network(self, text: str) -> Ids | None:
        """The ids of the networks equal to this one, in canonical text."""
        family, length, number = self.network(text)
        return family.networks.get(length, {}).get(number >> (family.bits - length))

    def end_of_batch(self) -> None:
        self.v4.end_of_batch()
        self.v6.end_of_batch()


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
        self._ip = _Families()
        self._screens: dict[str, Screen] = {
            kind: self._opaque_screen(kind) for kind in OPAQUE_KINDS
        }
        self._screens["email"] = self._email_screen()
        self._screens["card_bin"] = self._card_bin_screen()
        self._screens["ip"] = self._ip_screen()
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
            for entry_id in _as_tuple(found)
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

    def _ip_screen(self) -> Screen:
        v4, live, address, from_bytes = self._ip.v4, self._live, self._ip.address, int.from_bytes

        def screen(value: str, now: float | None) -> bool:
            if ":" in value:
                family, number = address(value)
            else:  # the usual case, parsed here: a call less
                try:
                    family, number = v4, from_bytes(inet_pton(AF_INET, value), "big")
                except (OSError, ValueError):
                    family, number = address(value)
            if not family.blocks[number >> family.block_shift]:
                return False  # the usual answer: nothing held anywhere near
            return family.holds_live(number, now, live)

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
            _add(self._exact[kind], value, entry_id)

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
                _discard(self._exact[kind], value, entry_id)
            return


def _prepared(row: Row) -> Row:
    entry_id, kind, value, expires_at = row
    try:
        return entry_id, kind, normalise(kind, value), expires_at
    except InvalidBlocklistValue as error:
        raise InvalidBlocklistValue(f"entry {entry_id}: {error}") from None
