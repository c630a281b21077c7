"""The in-process fraud matcher: `Matcher.blocked` over 1,000,000 entries, side by side with the
floor, the same number of plain `in` checks on one Python set of strings.

Entries: 40% card fingerprints, 20% emails, 10% BINs, 15% single IPs, 15% networks (IPv4 and
IPv6 in both). Queries: a pre-generated mix of IPs, fingerprints, emails and BINs, mostly misses.

    .venv/bin/python bench/fraud_matcher.py            # --entries 1000000 --lookups 1000000
Exits non-zero under 1,000,000 lookups/s. Figures go to bench/results/fraud_matcher.json beside
the previous run's.
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import itertools
import json
import random
import string
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import psutil

from gateway.fraud.matcher import Matcher

RESULTS = ROOT / "bench" / "results" / "fraud_matcher.json"
TARGET_LOOKUPS = 1_000_000.0
LOAD_BATCH = 20_000  # rows per upsert, as gateway.fraud.mirror loads them
SEED = 20_240_601
ENTRY_MIX = [  # kind, share of entries
    ("card_fingerprint", 0.40),
    ("email", 0.20),
    ("card_bin", 0.10),
    ("ip", 0.15),
    ("ip_range", 0.15),
]
QUERY_MIX = [("ip", 0.40), ("card_fingerprint", 0.30), ("email", 0.15), ("card_bin", 0.15)]
QUERY_HIT_SHARE = 0.05  # of queries built from an entry; random ones mostly miss
# Blocked networks are mostly small: a few /16 and /20, many /24 and below (about 1.5% of the
# IPv4 space covered in all); IPv6 ones from /32 to /64 and single /128s.
V4_LENGTHS = [16] * 1 + [20] * 9 + [24] * 100 + [28] * 40 + [29, 30, 31, 32] * 12
V6_LENGTHS = [32, 40, 48, 56] + [64] * 8 + [128] * 4
ALPHANUMERIC = string.ascii_letters + string.digits
Row = tuple[int, str, str, float | None]


def fingerprint(rng: random.Random) -> str:
    return "".join(rng.choices(ALPHANUMERIC, k=16))  # the shape of a Stripe card fingerprint


def email(rng: random.Random) -> str:
    local = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 12)))
    return f"{local}{rng.randint(1, 999)}@{rng.choice(['gmail.com', 'web.de', 'mail.example'])}"


def card_bin(rng: random.Random) -> str:
    return str(rng.randint(10**7, 10**8 - 1))[: rng.choice([6, 8, 8])]


def queried_bin(rng: random.Random) -> str:
    return str(rng.randint(10**7, 10**8 - 1))  # a request carries the card's first 8 digits


def v4_number(rng: random.Random) -> int:
    return rng.getrandbits(32)


def v6_number(rng: random.Random) -> int:
    return (0x2 << 124) | rng.getrandbits(125)  # global unicast, 2000::/3


def address(rng: random.Random) -> str:
    if rng.random() < 0.75:
        return str(ipaddress.IPv4Address(v4_number(rng)))
    return str(ipaddress.IPv6Address(v6_number(rng)))


def network(rng: random.Random) -> str:
    if rng.random() < 0.75:
        length = rng.choice(V4_LENGTHS)
        host_bits = 32 - length
        return str(ipaddress.IPv4Network((v4_number(rng) >> host_bits << host_bits, length)))
    length = rng.choice(V6_LENGTHS)
    host_bits = 128 - length
    return str(ipaddress.IPv6Network((v6_number(rng) >> host_bits << host_bits, length)))


MAKERS: dict[str, Callable[[random.Random], str]] = {
    "card_fingerprint": fingerprint,
    "email": email,
    "card_bin": card_bin,
    "ip": address,
    "ip_range": network,
}
QUERY_MAKERS = {**MAKERS, "card_bin": queried_bin}


def entries(count: int) -> Iterator[Row]:
    """Deterministic: the same `count` gives the same entries, one in ten expiring."""
    rng = random.Random(SEED)
    kinds = rng.choices([kind for kind, _ in ENTRY_MIX], [share for _, share in ENTRY_MIX], k=count)
    far = time.time() + 86_400 * 365
    for entry_id, kind in enumerate(kinds, start=1):
        yield entry_id, kind, MAKERS[kind](rng), far if entry_id % 10 == 0 else None


def load(matcher: Matcher, count: int, hits_wanted: int) -> tuple[float, list[Row]]:
    """Upserts in batches, as the mirror loads them: the seconds spent in `upsert`, and a
    sample of the rows to aim queries at."""
    rng, rows, seconds, sample = random.Random(SEED + 3), entries(count), 0.0, []
    while batch := list(itertools.islice(rows, LOAD_BATCH)):
        sample.extend(rng.sample(batch, min(len(batch), hits_wanted * LOAD_BATCH // count + 1)))
        started = time.perf_counter()
        matcher.upsert(batch)
        seconds += time.perf_counter() - started
    return seconds, sample[:hits_wanted]


def hit_for(rng: random.Random, kind: str, value: str) -> tuple[str, str]:
    """A query that the entry (kind, value) blocks, in the form a request would carry it."""
    if kind == "ip_range":
        net = ipaddress.ip_network(value)
        return "ip", str(net[rng.randrange(min(net.num_addresses, 2**64))])
    if kind == "email":
        local, _, domain = value.partition("@")
        return kind, f"{local.capitalize()}+shop@{domain.upper()}"
    if kind == "card_bin" and len(value) == 6:
        return kind, f"{value}{rng.randint(0, 99):02d}"
    return kind, value


def queries(count: int, hit_sources: list[Row]) -> list[tuple[str, str]]:
    """`count` queries in QUERY_MIX; QUERY_HIT_SHARE of them made from an entry."""
    rng = random.Random(SEED + 1)
    kinds = rng.choices([kind for kind, _ in QUERY_MIX], [share for _, share in QUERY_MIX], k=count)
    made = [(kind, QUERY_MAKERS[kind](rng)) for kind in kinds]
    for _, kind, value, _ in hit_sources:
        made[rng.randrange(count)] = hit_for(rng, kind, value)
    return made


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def count_blocked(matcher: Matcher, queries: list[tuple[str, str]]) -> int:
    blocked = matcher.blocked
    return sum(1 for kind, value in queries if blocked(kind, value))


def count_in_set(strings: set[str], queries: list[tuple[str, str]]) -> int:
    return sum(1 for _kind, value in queries if value in strings)  # the same loop, one `in`


def rates(
    matcher: Matcher, strings: set[str], mixed: list[tuple[str, str]], rounds: int
) -> tuple[float, float, int]:
    """Lookups/s through `Matcher.blocked` and through `in` on the set, best of `rounds`,
    the two taking turns so that the machine's noise falls on both alike."""
    best_matcher = best_floor = float("inf")
    hits = 0
    for _ in range(rounds):
        seconds, hits = timed(partial(count_blocked, matcher, mixed))
        best_matcher = min(best_matcher, seconds)
        seconds, _ = timed(partial(count_in_set, strings, mixed))
        best_floor = min(best_floor, seconds)
    return len(mixed) / best_matcher, len(mixed) / best_floor, hits


def kind_rates(matcher: Matcher, mixed: list[tuple[str, str]]) -> dict[str, float]:
    """Lookups/s for each kind of query on its own, to see where the time goes."""
    found = {}
    for kind in sorted({kind for kind, _ in mixed}):
        alone = [query for query in mixed if query[0] == kind]
        seconds, _ = timed(partial(count_blocked, matcher, alone))
        found[kind] = len(alone) / seconds
    return found


def resident_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 1e6


def changes(matcher: Matcher, count: int) -> dict[str, float]:
    """Upsert `count` new networks, then remove `count` held entries, on the loaded matcher."""
    rng = random.Random(SEED + 2)
    start = 10_000_000
    added = [(start + index, "ip_range", network(rng), None) for index in range(count)]
    upsert_s, _ = timed(lambda: matcher.upsert(added))
    doomed = rng.sample(range(1, len(matcher) + 1), count)
    remove_s, _ = timed(lambda: matcher.remove(doomed))
    return {"upsert_ms": upsert_s * 1000, "remove_ms": remove_s * 1000}


def measure(arguments: argparse.Namespace) -> dict[str, Any]:
    gc.collect()
    baseline = resident_mb()
    matcher = Matcher()
    build_s, hit_sources = load(
        matcher, arguments.entries, int(arguments.lookups * QUERY_HIT_SHARE)
    )
    gc.collect()
    loaded = resident_mb()
    mixed = queries(arguments.lookups, hit_sources)
    before_set = resident_mb()
    strings = {value for _, _, value, _ in entries(arguments.entries)}
    set_mb = resident_mb() - before_set
    rate, floor, hits = rates(matcher, strings, mixed, arguments.rounds)
    per_kind = kind_rates(matcher, mixed)
    changed = changes(matcher, arguments.changes)
    after_changes, _, _ = rates(matcher, strings, mixed, 1)
    return {
        "entries": arguments.entries,
        "lookups": arguments.lookups,
        "build_s": round(build_s, 2),
        "lookups_per_s": round(rate),
        "set_floor_per_s": round(floor),
        "floor_vs_matcher": round(floor / rate, 2),
        "blocked_share": round(hits / len(mixed), 3),
        "resident_mb": round(loaded),
        "matcher_mb": round(loaded - baseline),
        "set_floor_mb": round(set_mb),
        **{f"{kind}_lookups_per_s": round(rate) for kind, rate in per_kind.items()},
        "upsert_ranges_ms": round(changed["upsert_ms"], 1),
        "remove_entries_ms": round(changed["remove_ms"], 1),
        "lookups_per_s_after_changes": round(after_changes),
    }


def report(figures: dict[str, Any], previous: dict[str, Any], changes: int) -> None:
    rows = [  # label, key, unit
        (f"build: upserts of {LOAD_BATCH:,} rows", "build_s", "s"),
        ("Matcher.blocked", "lookups_per_s", "/s"),
        ("floor: `in` on one set of str", "set_floor_per_s", "/s"),
        ("floor / matcher", "floor_vs_matcher", "x"),
        ("queries blocked", "blocked_share", ""),
        ("resident after loading", "resident_mb", "MB"),
        ("  of which the matcher", "matcher_mb", "MB"),
        ("the floor's set, for scale", "set_floor_mb", "MB"),
        (f"upsert {changes:,} new networks", "upsert_ranges_ms", "ms"),
        (f"remove {changes:,} entries", "remove_entries_ms", "ms"),
        ("Matcher.blocked after those", "lookups_per_s_after_changes", "/s"),
    ]
    rows += [
        (f"  {key.removesuffix('_lookups_per_s')} queries alone", key, "/s")
        for key in figures
        if key.endswith("_lookups_per_s") and key != "lookups_per_s"
    ]
    print(f"\nfraud matcher: {figures['entries']:,} entries, {figures['lookups']:,} lookups")
    print(f"  {'':<34}{'this run':>16}{'previous':>16}")
    for label, key, unit in rows:
        was = f"{previous[key]:,}" if key in previous else "-"
        print(f"  {label:<34}{f'{figures[key]:,}':>13} {unit:<2}{was:>16}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="best of, for each timing")
    parser.add_argument("--changes", type=int, default=1_000)
    arguments = parser.parse_args()
    figures = measure(arguments)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    report(figures, previous, arguments.changes)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    met = figures["lookups_per_s"] >= TARGET_LOOKUPS
    print(f"target: >= {TARGET_LOOKUPS:,.0f} lookups/s: {'met' if met else 'MISSED'}")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
