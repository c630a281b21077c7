"""Unions of integer intervals, for the IPv6 networks of `gateway.fraud.networks`: a lookup
is a binary search over sorted, disjoint intervals instead of a test of every network."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from itertools import accumulate

__all__ = ["Settled", "Union"]

BUCKET_BITS = 16  # the settled union is indexed by the top 16 bits of an address


class Union:
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


class Settled(Union):
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
