"""The in-process copy of the fraud blocklist: it screens a request's card, IP or email in
under a microsecond with a million entries held, in about 100 bytes an entry.

Exact kinds are held as 61-bit keys, `hash(canonical value) >> 3`, never as the strings: a
byte table indexed by the key (`_hot`) answers most misses with one index, and `gateway.fraud
.pairs` maps keys to entry ids and entry ids to what they hold, 16 bytes a pair. Python's
string hash is keyed per process (SipHash), so a value that is not held passes for one that
is with a chance of about n / 2**61 (1 in 3 million million at a million entries), and no one
can aim for it. IP addresses and networks are held as integers by `gateway.fraud.networks`:
a bit per /24 block settles most lookups, IPv6 networks also as sorted disjoint intervals.
Every candidate is confirmed against the entries held and their expiry.

An IPv4-mapped IPv6 query (::ffff:1.2.3.4) is screened as the IPv4 address 1.2.3.4 only: IPv4
entries block it, IPv6 networks (even ::/0) do not.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from socket import AF_INET, AF_INET6, inet_pton
from typing import TYPE_CHECKING

from gateway.fraud import networks
from gateway.fraud.native import Screen
from gateway.fraud.networks import Family, Ids, IpFamilies, Live, ids_of
from gateway.fraud.normalise import (
    KINDS,
    NORMALISERS,
    OPAQUE_MAX_LENGTH,
    InvalidBlocklistValue,
    normalise,
    normalise_card_bin,
    normalise_email,
    normalise_ip_range,
    plain_email,
    unknown_kind,
)
from gateway.fraud.pairs import EMPTY, Pairs

__all__ = ["KINDS", "InvalidBlocklistValue", "Matcher", "normalise"]

Row = tuple[int, str, str, float | None]
Parsed = str | tuple[Family, int, int]  # an exact kind's canonical value, or an IP's parts

# An entry's token, what `_by_id` holds for it: its kind's code in the low 3 bits, above
# them the key of an exact kind, or an IPv4 (number << 8 | prefix length). IPv6 does not fit
# in 64 bits: its token is WIDE and the location is in `_wide`.
CODES = {kind: code for code, kind in enumerate(KINDS)}
IP, IP_RANGE = CODES["ip"], CODES["ip_range"]
WIDE = 7
HOT_SLOTS_PER_KEY = 8  # at least: 8 MB at a million keys, ~8 % of its bytes set
MANY = 255  # a hot byte where keys of different tags lie
BIN_BITS_MASK = (1 << 20) - 1
_from_bytes = int.from_bytes


def _live_check(expires: Pairs[float]) -> Live:
    """Whether any of the held ids (`_held_id`) is unexpired at `now` (default: the clock)."""

    def live(found: Ids, now: float | None) -> bool:
        if isinstance(found, int):  # nearly always: one entry
            return not found & 1 or _unexpired(expires.first(found >> 1), now)
        return any(not held & 1 or _unexpired(expires.first(held >> 1), now) for held in found)

    return live


def _unexpired(deadline: float | None, now: float | None) -> bool:
    return deadline is None or deadline > (time.time() if now is None else now)


def _held_id(entry_id: int, expires: bool) -> int:
    """An entry as the indexes hold it: its id, and in the low bit whether it expires, so
    that a hit on an entry that never expires (most) is confirmed without asking when."""
    return entry_id << 1 | expires


def _salted(kind: str, key: int) -> int:
    """The key as `_by_key` holds it: the kinds share that table, and the kind's code in bits
    57 to 59 keeps equal values of two kinds apart. Those bits choose neither the hot byte
    nor the tag, so `_hot` is built from these keys as well."""
    return key ^ (CODES[kind] << 57)


FINGERPRINT_SALT, EMAIL_SALT, BIN_SALT = (
    _salted(kind, 0) for kind in ("card_fingerprint", "email", "card_bin")
)


if TYPE_CHECKING:
    _ScreenBase = object
else:  # the compiled screen: the tables as its slots, and `blocked` in C (gateway/fraud/native)
    _ScreenBase = object if Screen is None else Screen
if Screen is not None:
    Screen.configure(many=MANY, bin_bits_mask=BIN_BITS_MASK, opaque_max_length=OPAQUE_MAX_LENGTH)


def _tag(key: int) -> int:
    """1 to 128, from bits of the key that do not choose its hot byte: a set byte whose tag
    differs settles a lookup without confirming it."""
    return ((key >> 40) & 0x7F) + 1


class Matcher(_ScreenBase):
    """The blocklist held in memory; `blocked` is the hot path.

    Not thread-safe, by design: the service calls `upsert`, `remove` and the lookups from the
    event loop's thread only, so no lock is taken anywhere.
    """

    def __init__(self) -> None:
        self._by_id = Pairs[int](mix=True)  # entry id -> token
        # Asked for every candidate, so kept emptier than `_by_id`: key -> held id (`_held_id`)
        self._by_key = Pairs[int](mix=False, fill=0.6)
        self._wide: dict[int, int] = {}  # entry id -> IPv6 token
        # One byte for each slot a key may fall in: 0 where none is held, the key's tag or
        # MANY. A bytearray: an index into it costs half what one into an mmap does.
        self._hot = bytearray(1024)
        self._hot_mask = 1023
        self._stale = 0  # keys removed since `_hot` was built: false candidates
        # Only entries that expire; asked only about hits on them.
        self._expires = Pairs[float](mix=True, fill=0.5, typecode="d")
        self._live = _live_check(self._expires)
        self._ip = IpFamilies()
        # A bit for each BIN held, by its first 6 digits: 128 kB, so unlike `_hot` it stays
        # in the CPU's cache. Removals leave their bits set until the next full load (a process
        # start or a reconnect): a bit only makes a candidate.
        self._bins = bytearray((BIN_BITS_MASK + 1) >> 3)
        # The same bytearrays for ever: a lookup less each.
        self._v4_blocks, self._v6_blocks = self._ip.v4.blocks, self._ip.v6.blocks

    def reserve(self, entries: int, exact: int, v4_addresses: int, expiring: int) -> None:
        """Make room for a full load (counts by `queries.MIRROR_SIZES`): the tables grow by
        rehashing in Python, a second at a time at a million entries, unless sized first."""
        self._by_id.reserve(entries)
        self._by_key.reserve(exact)
        self._ip.v4.addresses.reserve(v4_addresses)
        self._expires.reserve(expiring)
        if exact * HOT_SLOTS_PER_KEY > len(self._hot):
            self._build_hot(exact)

    def upsert(self, rows: Iterable[Row]) -> None:
        """Add or replace entries (entry_id, kind, value, expires_at epoch seconds or None).

        Values are parsed again, so a row in an older canonical form still matches. Every
        row is checked before any is applied: one invalid row raises and changes nothing.
        """
        prepared = [self._prepared(row) for row in rows]
        for entry_id, kind, parsed, expires_at in prepared:
            self._forget(entry_id)
            self._index(entry_id, kind, parsed, expires_at is not None)
            if expires_at is not None:
                self._expires.add(entry_id, expires_at)
        self._end_of_batch()

    def remove(self, entry_ids: Iterable[int]) -> None:
        """Drop entries by id; ids not held are ignored."""
        for entry_id in entry_ids:
            self._forget(entry_id)
        self._end_of_batch()

    def match(self, kind: str, value: str, now: float | None = None) -> list[int]:
        """The sorted ids of the live entries matching `value`, the `kind` being screened.

        "ip" matches ip entries equal to it and every ip_range containing it; an 8-digit
        "card_bin" also matches 6-digit entries of its first 6 digits. Any other kind matches
        entries of that kind whose canonical value is equal. Live: no expiry, or one after `now`.
        """
        clock = time.time() if now is None else now
        live = self._live
        return sorted(held >> 1 for held in self._candidates(kind, value) if live(held, clock))

    def blocked_in_python(self, kind: str, value: str, now: float | None = None) -> bool:
        """Whether any live entry matches: `match(...) != []`, only much faster.

        One function, the kinds in order of how often they are screened: a call per lookup
        is most of the cost left. Each repeats the common case of its normaliser inline.
        Where the C screen was compiled, `blocked` is its method: it answers the misses that
        take one table look here, and calls this for everything else."""
        if kind == "ip":  # family.blocked(number) inline: a bit per /24 (BLOCK_BITS), mostly 0
            try:
                if ":" not in value:
                    number = _from_bytes(inet_pton(AF_INET, value))
                    # A byte holds 8 blocks and is 0 for most addresses: one test settles those.
                    byte = self._v4_blocks[number >> 11]
                    return (
                        byte != 0
                        and byte >> (number >> 8 & 7) & 1 != 0
                        and self._ip.v4.holds_live(number, now, self._live)
                    )
                number = _from_bytes(inet_pton(AF_INET6, value))
            except (OSError, ValueError):  # spaces, or not an address: let it say why
                return self._address_held(value, now)
            block = number >> 104  # one shift of the 128-bit number, not two
            if not block:  # ::/24, where ::ffff:1.2.3.4 lies: screened as 1.2.3.4
                return self._address_held(value, now)
            return self._v6_blocks[block >> 3] >> (block & 7) & 1 != 0 and (
                self._ip.v6.holds_live(number, now, self._live)
            )
        if kind == "card_fingerprint":  # then the kinds as often screened, one test each
            text = value.strip()
            if not 0 < len(text) <= OPAQUE_MAX_LENGTH:
                NORMALISERS[kind](value)  # raises, with the sentence for the agent
            key = hash(text) >> 3
            mark = self._hot[key & self._hot_mask]
            return (
                mark != 0
                and (mark == MANY or mark == (key >> 40 & 0x7F) + 1)
                and (self._held(FINGERPRINT_SALT, key, now))
            )
        if kind == "email":
            key = hash(value if plain_email(value) else normalise_email(value)) >> 3
            mark = self._hot[key & self._hot_mask]
            return (
                mark != 0
                and (mark == MANY or mark == (key >> 40 & 0x7F) + 1)
                and (self._held(EMAIL_SALT, key, now))
            )
        if kind == "card_bin":
            if len(value) == 8 and value.isascii() and value.isdigit():
                digits = value
            else:
                digits = normalise_card_bin(value)
            first_six = hash(digits[:6])
            bit = first_six & BIN_BITS_MASK
            if not self._bins[bit >> 3] >> (bit & 7) & 1:
                return False  # no BIN held starts with these 6 digits: most queries
            return self._bin_held(digits, first_six, now)
        if kind == "customer" or kind == "iban":
            key = hash(NORMALISERS[kind](value)) >> 3
            mark = self._hot[key & self._hot_mask]
            return (mark == MANY or mark == _tag(key)) and self._held(_salted(kind, 0), key, now)
        if kind == "ip_range":
            found = self._ip.held_network(normalise_ip_range(value))
            return found is not None and self._live(found, now)
        raise unknown_kind(kind)

    if TYPE_CHECKING or Screen is None:
        blocked = blocked_in_python

    def __len__(self) -> int:
        """Entries held, expired ones included until they are removed."""
        return self._by_id.used

    def _address_held(self, value: str, now: float | None) -> bool:
        """The "ip" screen for the text that `blocked` does not parse itself."""
        family, number = self._ip.address(value)
        return family.blocked(number) != 0 and family.holds_live(number, now, self._live)

    def _bin_held(self, digits: str, first_six: int, now: float | None) -> bool:
        """The BIN itself held, or (for 8 digits) the 6-digit BIN it starts with."""
        hot, mask = self._hot, self._hot_mask
        key = hash(digits) >> 3
        mark = hot[key & mask]
        if (mark == MANY or mark == (key >> 40 & 0x7F) + 1) and self._held(BIN_SALT, key, now):
            return True
        if len(digits) != 8:
            return False
        key = first_six >> 3
        mark = hot[key & mask]
        return (mark == MANY or mark == (key >> 40 & 0x7F) + 1) and self._held(BIN_SALT, key, now)

    def _held(self, salt: int, key: int, now: float | None) -> bool:
        """Called where the key's hot byte holds its tag (or MANY): the key of the kind whose
        `_salted` bits are `salt` confirmed in `_by_key`, live."""
        salted = key ^ salt
        pairs = self._by_key  # `pairs.get(salted)` inline: a call less on every hit
        keys, size = pairs.keys, pairs.size
        slot = salted % size
        while (held := keys[slot]) != EMPTY:
            if held == salted:
                if not pairs.values[slot] & 1:
                    return True  # a hit on an entry that never expires: the usual one
                return self._live(tuple(pairs.find(salted)), now)
            slot = slot + 1 if slot + 1 < size else 0
        return False

    def _held_ids(self, kind: str, key: int) -> list[int]:
        return self._by_key.find(_salted(kind, key))

    def _candidates(self, kind: str, value: str) -> Iterator[int]:
        if kind == "ip":
            family, number = self._ip.address(value)
            yield from ids_of(family.addresses.get(number))
            for found in family.containing(number):
                yield from ids_of(found)
        elif kind == "card_bin":
            digits = normalise_card_bin(value)
            yield from self._held_ids(kind, hash(digits) >> 3)
            if len(digits) == 8:
                yield from self._held_ids(kind, hash(digits[:6]) >> 3)
        elif kind == "ip_range":
            yield from ids_of(self._ip.held_network(normalise_ip_range(value)))
        else:
            canonical = normalise(kind, value)  # first: it names an unknown kind
            yield from self._held_ids(kind, hash(canonical) >> 3)

    def _prepared(self, row: Row) -> tuple[int, str, Parsed, float | None]:
        """The row checked and parsed once: an exact kind's canonical value, or an IP's family,
        prefix length and number."""
        entry_id, kind, value, expires_at = row
        try:
            if kind == "ip":
                family, number = self._ip.address(value)
                return entry_id, kind, (family, family.bits, number), expires_at
            if kind == "ip_range":
                return entry_id, kind, self._ip.network(value), expires_at
            return entry_id, kind, normalise(kind, value), expires_at  # names a bad kind
        except InvalidBlocklistValue as error:
            raise InvalidBlocklistValue(f"entry {entry_id}: {error}") from None

    def _index(self, entry_id: int, kind: str, parsed: Parsed, expires: bool) -> None:
        held = _held_id(entry_id, expires)
        if isinstance(parsed, str):  # an exact kind's canonical value
            key = _salted(kind, hash(parsed) >> 3)
            self._by_key.add(key, held)
            self._by_id.add(entry_id, key << 3 | CODES[kind])
            if kind == "card_bin":
                self._mark_bin(parsed)
            if self._by_key.used * HOT_SLOTS_PER_KEY > len(self._hot):
                self._build_hot(self._by_key.used)
            else:
                self._mark(self._hot, self._hot_mask, key)
            return
        family, length, number = parsed
        if kind == "ip":
            family.add_address(number, held)
            self._locate(entry_id, family.bits, (number << 8) << 3 | IP)
        else:
            family.add_network(length, number, held)
            self._locate(entry_id, family.bits, (number << 8 | length) << 3 | IP_RANGE)

    def _mark_bin(self, digits: str) -> None:
        bit = hash(digits[:6]) & BIN_BITS_MASK
        self._bins[bit >> 3] |= 1 << (bit & 7)

    def _locate(self, entry_id: int, bits: int, token: int) -> None:
        if bits == 32:
            self._by_id.add(entry_id, token)
        else:
            self._by_id.add(entry_id, WIDE)
            self._wide[entry_id] = token

    def _forget(self, entry_id: int) -> None:
        token = self._by_id.pop(entry_id)
        if token is None:
            return
        held_id = _held_id(entry_id, self._expires.pop(entry_id) is not None)
        family = self._ip.v4
        if token == WIDE:
            token, family = self._wide.pop(entry_id), self._ip.v6
        code, held = token & 7, token >> 3
        if code == IP:
            family.discard_address(held >> 8, held_id)
        elif code == IP_RANGE:
            family.discard_network(held & 0xFF, held >> 8, held_id)
        else:
            self._by_key.discard(held, held_id)
            self._stale += 1

    def _end_of_batch(self) -> None:
        self._ip.end_of_batch()
        # Removed keys leave their bytes set (false candidates, confirmed away): rebuilt once
        # they are many, O(n) after n / 2 removals, so O(1) a removal.
        if self._stale > max(networks.MIN_CHANGES_BEFORE_REBUILD, self._by_key.used // 2):
            self._build_hot(self._by_key.used)

    def _build_hot(self, keys: int) -> None:
        """Sized to `keys`, so doubling as they grow: O(1) a key."""
        size = 1024
        while size < keys * HOT_SLOTS_PER_KEY:
            size *= 2
        hot, mask = bytearray(size), size - 1
        for key in self._by_key.held_keys():
            self._mark(hot, mask, key)
        self._hot, self._hot_mask, self._stale = hot, mask, 0

    @staticmethod
    def _mark(hot: bytearray, mask: int, key: int) -> None:
        slot, tag = key & mask, _tag(key)
        hot[slot] = tag if hot[slot] in (0, tag) else MANY
