"""A multimap of 64-bit integers in two flat arrays, for `gateway.fraud.matcher`.

A dict of a million int keys to int values costs about 100 bytes a pair (the table plus two
int objects); here a pair is 16 bytes in `array('q')` slots, at most `fill` full: 20 to 27
bytes at 0.8. Open addressing with linear probing; a removed pair leaves a tombstone until
the next rehash. Not on the hot path: the matcher reaches these only for candidates and for
changes. Growth rehashes in Python, about a second at a million pairs: a full load
`reserve`s the room it needs first, so it never rehashes.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

__all__ = ["EMPTY", "IdsByKey", "Pairs"]

EMPTY = -(1 << 63)  # a free slot; never a key
GONE = EMPTY + 1  # a removed pair: lookups probe past it
_MIX = 0x9E3779B97F4A7C15  # Fibonacci hashing: spreads sequential ids over the table
_WORD = (1 << 64) - 1
_MIN_SIZE = 8
_NEAR = 16  # slots that `first` searches in C before probing in Python
Value = TypeVar("Value", int, float)


class Pairs(Generic[Value]):
    """Keys must lie above GONE (the matcher's keys are 61-bit hashes and entry ids)."""

    __slots__ = ("fill", "gone", "keys", "mix", "size", "typecode", "used", "values")

    def __init__(self, *, mix: bool, fill: float = 0.8, typecode: str = "q") -> None:
        self.mix = mix  # False where keys are hashes already: spares a multiplication
        # Most full before growing: a lookup of a key not held probes about
        # (1 + 1 / (1 - fill) ** 2) / 2 slots, 13 at 0.8, 4 at 0.6.
        self.fill = fill
        self.typecode = typecode  # of the values: "d" holds floats
        self._empty(_MIN_SIZE)

    def _empty(self, size: int) -> None:
        self.size = size
        self.keys = array("q", [EMPTY]) * size
        self.values: array[Any] = array(self.typecode, [0]) * size
        self.used = 0
        self.gone = 0

    def reserve(self, count: int) -> None:
        """Make room for `count` pairs in all, so that adding them never rehashes."""
        if count > self.size * self.fill * 0.9:
            self._rehash(count)

    def _slot(self, key: int) -> int:
        return ((key * _MIX) & _WORD) % self.size if self.mix else key % self.size

    def add(self, key: int, value: Value) -> None:
        """Add a pair; an equal pair already held is held twice."""
        if self.used + self.gone + 1 > self.size * self.fill:
            self._rehash()
        keys, size = self.keys, self.size
        slot = self._slot(key)
        while keys[slot] > GONE:
            slot = slot + 1 if slot + 1 < size else 0
        if keys[slot] == GONE:
            self.gone -= 1
        keys[slot] = key
        self.values[slot] = value
        self.used += 1

    def find(self, key: int) -> list[Value]:
        """The values held under `key`, in no order."""
        keys, values, size = self.keys, self.values, self.size
        found: list[Value] = []
        slot = ((key * _MIX) & _WORD) % size if self.mix else key % size
        while (held := keys[slot]) != EMPTY:
            if held == key:
                found.append(values[slot])
            slot = slot + 1 if slot + 1 < size else 0
        return found

    def get(self, key: int) -> Value | None:
        """The first value held under `key`: for keys held once, such as entry ids."""
        keys, size = self.keys, self.size
        slot = ((key * _MIX) & _WORD) % size if self.mix else key % size
        while (held := keys[slot]) != EMPTY:
            if held == key:
                value: Value = self.values[slot]
                return value
            slot = slot + 1 if slot + 1 < size else 0
        return None

    def first(self, key: int) -> Value | None:
        """A value held under `key`, as `get`, for a key most likely held: `array.index`
        finds it near its slot in C, three times faster. Any slot holding the key holds one
        of its pairs, so the search need not stop at a free slot."""
        slot = ((key * _MIX) & _WORD) % self.size if self.mix else key % self.size
        try:
            found: Value = self.values[self.keys.index(key, slot, slot + _NEAR)]
        except ValueError:  # further, across the end, or not held: slowly
            return self.get(key)
        return found

    def discard(self, key: int, value: Value | None) -> Value | None:
        """Remove one pair `key`, `value` (any value when `value` is None); return its value."""
        keys, values, size = self.keys, self.values, self.size
        slot = self._slot(key)
        while (held := keys[slot]) != EMPTY:
            if held == key and (value is None or values[slot] == value):
                found: Value = values[slot]
                keys[slot] = GONE
                self.used -= 1
                self.gone += 1
                return found
            slot = slot + 1 if slot + 1 < size else 0
        return None

    def pop(self, key: int) -> Value | None:
        return self.discard(key, None)

    def held_keys(self) -> list[int]:
        return [key for key in self.keys if key > GONE]

    def _rehash(self, room: int = 0) -> None:
        """Into a table 0.7 * fill full (tombstones dropped), or 0.9 * fill once `room` pairs
        are held: the growth is geometric, so a pair is moved O(1) times on average."""
        keys, values = self.keys, self.values
        grown = int((self.used + 1) / (0.7 * self.fill))
        size = max(_MIN_SIZE, grown, int(room / (0.9 * self.fill)) + 1)
        self._empty(size)
        new_keys, new_values = self.keys, self.values
        for key, value in zip(keys, values, strict=True):
            if key > GONE:
                slot = self._slot(key)
                while new_keys[slot] != EMPTY:
                    slot = slot + 1 if slot + 1 < size else 0
                new_keys[slot] = key
                new_values[slot] = value
                self.used += 1


class IdsByKey:
    """`Pairs` behind the part of a `dict[int, Ids]` that an IPv4 family uses for its single
    addresses: 20 to 27 bytes an address where a dict took about 100."""

    __slots__ = ("pairs",)

    def __init__(self) -> None:
        self.pairs = Pairs[int](mix=True, fill=0.6)  # asked for every candidate address

    def get(self, key: int) -> int | tuple[int, ...] | None:
        """`Pairs.find` without its list: asked for every candidate address, nearly all held
        once or not at all."""
        pairs = self.pairs
        keys, values, size = pairs.keys, pairs.values, pairs.size
        slot = ((key * _MIX) & _WORD) % size
        found: int | tuple[int, ...] | None = None
        while (held := keys[slot]) != EMPTY:
            if held == key:
                value = values[slot]
                if found is None:
                    found = value
                else:
                    found = (found, value) if isinstance(found, int) else (*found, value)
            slot = slot + 1 if slot + 1 < size else 0
        return found

    def add(self, key: int, entry_id: int) -> None:
        self.pairs.add(key, entry_id)

    def reserve(self, count: int) -> None:
        self.pairs.reserve(count)

    def discard(self, key: int, entry_id: int) -> None:
        self.pairs.discard(key, entry_id)

    def __len__(self) -> int:
        return self.pairs.used

    def __iter__(self) -> Iterator[int]:
        return iter(set(self.pairs.held_keys()))
