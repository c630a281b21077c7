"""The IP addresses and networks of the blocklist, as integers, for `gateway.fraud.matcher`.

IP addresses become integers through `inet_pton`, about 0.2 microseconds (`ipaddress` takes
over 1). Each IP version keeps:
- the truth: single addresses in a dict, networks in one dict per prefix length;
- `blocks`, one byte per /24 of IPv4 (per /24 of IPv6 too), set wherever something held may
  lie, so that most lookups end at one index;
- for IPv6, whose /24s are far too wide to settle much, the union of all networks as sorted
  disjoint intervals searched with `bisect`, plus a small union of those added since.
Removed and expired entries may linger in the blocks and unions. That is safe: those only make
candidates, and each candidate is confirmed against the dicts. They are rebuilt once enough
changes have accumulated, never on every upsert.
"""

from __future__ import annotations

import mmap
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Iterable, Iterator
from itertools import accumulate
from socket import AF_INET, AF_INET6, inet_pton
from typing import TypeVar

from gateway.fraud.normalise import canonical_address

__all__ = ["Ids", "IpFamilies", "Live", "Screen", "add_id", "discard_id", "ids_of"]

Ids = int | tuple[int, ...]  # nearly every value has one entry; a tuple only for duplicates
Key = TypeVar("Key", bound=Hashable)
Screen = Callable[[str, "float | None"], bool]
Live = Callable[[Ids, "float | None"], bool]

MIN_CHANGES_BEFORE_REBUILD = 4096
MAX_STALE_BLOCKS = 1 << 16  # as many as an IPv4 /8 covers: 1 lookup in 256 slowed
BUCKET_BITS = 16  # the settled union is indexed by the top 16 bits of an address
V4_MAPPED_PREFIX = 0xFFFF  # the top 96 bits of ::ffff:a.b.c.d
V4_MASK = 0xFFFFFFFF
BLOCK_BITS = 24  # an address's block: its top 24 bits


def add_id(index: dict[Key, Ids], key: Key, entry_id: int) -> None:
    found = index.get(key)
    if found is None:
        index[key] = entry_id
    elif isinstance(found, int):
        index[key] = (found, entry_id)
    else:
        index[key] = (*found, entry_id)


def discard_id(index: dict[Key, Ids], key: Key, entry_id: int) -> None:
    found = index.pop(key)
    rest = tuple(other for other in ids_of(found) if other != entry_id)
    if rest:
        index[key] = rest[0] if len(rest) == 1 else rest


def ids_of(found: Ids | None) -> tuple[int, ...]:
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
        add_id(self.addresses, number, entry_id)
        self.blocks[number >> self.block_shift] = 1

    def discard_address(self, number: int, entry_id: int) -> None:
        discard_id(self.addresses, number, entry_id)
        self.changes += 1
        self.stale_blocks += 1

    def add_network(self, length: int, number: int, entry_id: int) -> None:
        if length not in self.networks:
            self.networks[length] = {}
            self._index_tables()
        add_id(self.networks[length], number >> (self.bits - length), entry_id)
        self.networks_held += 1
        self._mark(length, number)  # takes effect at once: an addition needs no rebuild

    def discard_network(self, length: int, number: int, entry_id: int) -> None:
        networks = self.networks[length]
        discard_id(networks, number >> (self.bits - length), entry_id)
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


class IpFamilies:
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

    def address_screen(self, live: Live) -> Screen:
        """Whether a live address or network held is, or contains, an address: the "ip" screen
        of `Matcher.blocked`. It parses the usual case, IPv4, itself: a call less per lookup."""
        v4, address, from_bytes = self.v4, self.address, int.from_bytes

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
