"""The IP addresses and networks of the blocklist, as integers, for `gateway.fraud.matcher`.

IP addresses become integers through `inet_pton`, about 0.2 microseconds (`ipaddress` takes
over 1). Each IP version keeps:
- the truth: single addresses (IPv4 in `pairs.IdsByKey`, IPv6 in a dict), networks in one
  dict per prefix length;
- `blocks`, one bit per /24 of IPv4 (per /24 of IPv6 too), set wherever something held may
  lie, so that most lookups end at one index;
- for IPv6, whose /24s are far too wide to settle much, the union of all networks as sorted
  disjoint intervals (`gateway.fraud.intervals`), plus a small union of those added since.
Removed and expired entries may linger in the blocks and unions. That is safe: those only make
candidates, and each candidate is confirmed against the dicts. They are rebuilt once enough
changes have accumulated, never on every upsert.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterator
from socket import AF_INET, AF_INET6, inet_pton
from typing import Protocol, TypeVar

from gateway.fraud.intervals import Settled, Union
from gateway.fraud.normalise import canonical_address, canonical_network
from gateway.fraud.pairs import IdsByKey

__all__ = [
    "V4_MAPPED_PREFIX",
    "Family",
    "Ids",
    "IpFamilies",
    "Live",
    "add_id",
    "discard_id",
    "ids_of",
]

Ids = int | tuple[int, ...]  # nearly every value has one entry; a tuple only for duplicates
Key = TypeVar("Key", bound=Hashable)
Live = Callable[[Ids, "float | None"], bool]

MIN_CHANGES_BEFORE_REBUILD = 4096
MAX_STALE_BLOCKS = 1 << 16  # as many as an IPv4 /8 covers: 1 lookup in 256 slowed
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


class AddressIds(Protocol):
    def get(self, key: int) -> Ids | None: ...
    def add(self, key: int, entry_id: int) -> None: ...
    def reserve(self, count: int) -> None: ...
    def discard(self, key: int, entry_id: int) -> None: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[int]: ...


class _DictIds(dict[int, Ids]):
    """IPv6 addresses, which do not fit in `IdsByKey`'s 64 bits (and are few)."""

    def add(self, key: int, entry_id: int) -> None:
        add_id(self, key, entry_id)

    def reserve(self, count: int) -> None:
        pass  # a dict cannot be sized ahead; there are few IPv6 addresses

    def discard(self, key: int, entry_id: int) -> None:
        discard_id(self, key, entry_id)


def ids_of(found: Ids | None) -> tuple[int, ...]:
    if found is None:
        return ()
    return (found,) if isinstance(found, int) else found


def _zeroed_blocks() -> bytearray:
    # A bit a block: 2 MB, where a byte a block took 16 MB resident at a million entries. A
    # bytearray, not an mmap: indexing it costs half as much.
    return bytearray(1 << (BLOCK_BITS - 3))


class Family:
    """The addresses and networks of one IP version, as integers.

    `blocks` has one bit per 1/2**24th of the address space (a /24 in IPv4), set when a held
    address or network may lie in it: most lookups end at that one index (`blocked`). It
    takes 2 MB. Removals leave their bits set until the next rebuild; a set bit only makes a
    candidate, which `holds_live` confirms.
    """

    def __init__(self, bits: int) -> None:
        self.bits = bits
        self.pton = AF_INET if bits == 32 else AF_INET6
        self.block_shift = bits - BLOCK_BITS
        self.blocks = _zeroed_blocks()
        self.addresses: AddressIds = IdsByKey() if bits == 32 else _DictIds()
        self.networks: dict[int, dict[int, Ids]] = {}  # prefix length -> {network >> shift: ids}
        self.tables: list[tuple[int, dict[int, Ids]]] = []  # (shift, networks), to confirm
        self.networks_held = 0
        self.changes = 0  # since the last rebuild
        self.stale_blocks = 0  # blocks set by what was removed since: false candidates

    def add_address(self, number: int, entry_id: int) -> None:
        self.addresses.add(number, entry_id)
        self._mark(self.bits, number)

    def discard_address(self, number: int, entry_id: int) -> None:
        self.addresses.discard(number, entry_id)
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
        # Widest first: an address is likeliest to lie in one of those, and a hit ends the search.
        self.tables = [
            (self.bits - length, self.networks[length]) for length in sorted(self.networks)
        ]

    def blocked(self, number: int) -> int:
        """Non-zero when something held may lie in `number`'s block."""
        block = number >> self.block_shift
        return self.blocks[block >> 3] >> (block & 7) & 1

    def _mark(self, length: int, number: int) -> None:
        first, count = number >> self.block_shift, 1 << max(0, BLOCK_BITS - length)
        if count >= 8:  # whole bytes: a network's blocks are aligned to their count
            self.blocks[first >> 3 : (first + count) >> 3] = b"\xff" * (count >> 3)
        else:
            self.blocks[first >> 3] |= ((1 << count) - 1) << (first & 7)

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
        # One id that never expires (its low bit clear), as nearly every hit: live without a call.
        found = self.addresses.get(number)
        if found is not None and ((isinstance(found, int) and not found & 1) or live(found, now)):
            return True
        if not self.may_be_in_network(number):
            return False
        for shift, table in self.tables:  # `containing`, without its generator: a candidate
            found = table.get(number >> shift)  # of every 30 IPv4 lookups comes here
            if found is not None and (
                (isinstance(found, int) and not found & 1) or live(found, now)
            ):
                return True
        return False

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
        self.blocks[:] = _zeroed_blocks()  # in place: the matcher holds the IPv4 one
        for number in self.addresses:
            self._mark(self.bits, number)
        for length, number in self.held_networks():
            self._mark(length, number)
        self.changes = self.stale_blocks = 0


class _V6Family(Family):
    """IPv6 blocks are too coarse (/24) to settle most candidates, so networks are also held
    as a union of intervals, `settled` at the last rebuild; those added since are merged into
    a small `fresh` union at the end of each batch, or trigger the rebuild."""

    def __init__(self) -> None:
        super().__init__(128)
        self.settled, self.fresh = Settled(128), Union()
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
        self.settled, self.fresh, self.added = Settled(128, intervals), Union(), []


class IpFamilies:
    """IPv4 and IPv6, and the parsing of text into one of them."""

    def __init__(self) -> None:
        self.v4, self.v6 = Family(32), _V6Family()

    def address(self, value: str) -> tuple[Family, int]:
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

    def network(self, text: str) -> tuple[Family, int, int]:
        """The family, prefix length and number of a network: the canonical one of
        `canonical_network`, which parses any other text (and says why it is no network)."""
        address, _, length = text.partition("/")
        if length.isascii() and length.isdigit():  # canonical text: inet_pton, 20x faster
            family = self.v6 if ":" in address else self.v4
            try:
                number = int.from_bytes(inet_pton(family.pton, address), "big")
            except (OSError, ValueError):
                pass
            else:
                prefix = int(length)
                host_bits_clear = prefix <= family.bits and not number & (
                    (1 << (family.bits - prefix)) - 1
                )
                # An IPv4-mapped IPv6 network is, in canonical form, an IPv4 network.
                if host_bits_clear and number >> 32 != V4_MAPPED_PREFIX:
                    return family, prefix, number
        network = canonical_network(text)
        family = self.v4 if network.version == 4 else self.v6
        return family, network.prefixlen, int(network.network_address)

    def held_network(self, text: str) -> Ids | None:
        """The ids of the networks equal to this one, in canonical text."""
        family, length, number = self.network(text)
        return family.networks.get(length, {}).get(number >> (family.bits - length))

    def end_of_batch(self) -> None:
        self.v4.end_of_batch()
        self.v6.end_of_batch()
