"""The fraud matcher against a naive reference (every entry scanned with `ipaddress`), and the
edges a support agent or a screened request would notice."""

from __future__ import annotations

import functools
import gc
import ipaddress
import operator
import random
import time
import weakref
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.fraud import networks as networks_module
from gateway.fraud.matcher import KINDS, InvalidBlocklistValue, Matcher, normalise
from gateway.fraud.normalise import plain_email

NOW = 1_700_000_000.0
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


# The reference: written from the rules, not from the matcher's code.


def reference_address(text: str) -> Address:
    address = ipaddress.ip_address(text.strip())
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped  # screened as IPv4 only
    return address


def reference_network(text: str) -> Network:
    network = ipaddress.ip_network(text.strip())
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}")
    return network


def reference_email(text: str) -> str:
    local, domain = text.strip().lower().split("@")
    return f"{local.split('+')[0]}@{domain.encode('idna').decode()}"


@dataclass
class Entry:
    kind: str
    value: str
    expires_at: float | None

    def live(self, now: float) -> bool:
        return self.expires_at is None or self.expires_at > now

    def matches(self, kind: str, query: str) -> bool:
        if kind == "ip":
            address = reference_address(query)
            if self.kind == "ip":
                return reference_address(self.value) == address
            return self.kind == "ip_range" and address in reference_network(self.value)
        if kind == "ip_range":
            return self.kind == kind and reference_network(self.value) == reference_network(query)
        if kind != self.kind:
            return False
        if kind == "card_bin":
            digits, held = "".join(query.split()), "".join(self.value.split())
            return held == digits or (len(digits) == 8 and held == digits[:6])
        if kind == "email":
            return reference_email(self.value) == reference_email(query)
        return self.value.strip() == query.strip()


def reference_match(held: dict[int, Entry], kind: str, query: str, now: float) -> list[int]:
    return sorted(i for i, entry in held.items() if entry.live(now) and entry.matches(kind, query))


# Values from small pools, so that entries and queries meet, overlap and repeat.

V4_ANCHORS = [0, 0x0A000000, 0x0A0000FF, 0xC0A80100, 0xC0A801FF, 0x7F000001, 0xFFFFFFFF]
V6_ANCHORS = [0, 1, 0x20010DB8 << 96, (0x20010DB8 << 96) | 0xFFFF, (1 << 128) - 1]


@st.composite
def v4_numbers(draw: st.DrawFn) -> int:
    anchor = draw(st.sampled_from(V4_ANCHORS))
    return (anchor + draw(st.integers(-300, 300))) % (1 << 32)


@st.composite
def v6_numbers(draw: st.DrawFn) -> int:
    anchor = draw(st.sampled_from(V6_ANCHORS))
    return (anchor + draw(st.integers(-(1 << 20), 1 << 20))) % (1 << 128)


@st.composite
def address_texts(draw: st.DrawFn) -> str:
    """An address as a request or an agent would write it, IPv4-mapped IPv6 included."""
    if draw(st.booleans()):
        number = draw(v4_numbers())
        text = str(ipaddress.IPv4Address(number))
        form = draw(st.sampled_from(["plain", "plain", "mapped", "mapped-hex", "spaced"]))
        if form == "mapped":
            return f"::ffff:{text}"
        if form == "mapped-hex":
            return str(ipaddress.IPv6Address((0xFFFF << 32) | number))
        return f" {text} " if form == "spaced" else text
    return str(ipaddress.IPv6Address(draw(v6_numbers())))


@st.composite
def network_texts(draw: st.DrawFn) -> str:
    """Any prefix length from /0 to /32 or /128, IPv4 sometimes written IPv4-mapped."""
    if draw(st.booleans()):
        length = draw(st.integers(0, 32))
        network = ipaddress.IPv4Network((draw(v4_numbers()), length), strict=False)
        if draw(st.integers(0, 4)) == 0:
            return f"::ffff:{network.network_address}/{length + 96}"
        return str(network)
    length = draw(st.integers(0, 128))
    return str(ipaddress.IPv6Network((draw(v6_numbers()), length), strict=False))


BINS = ["424242", "42424242", "42424299", "4242 4242", "555555", "55555512", "55555599"]
EMAILS = ["ann@example.com", "Ann+shop@Example.COM", " ANN+x@example.com ", "bob@bücher.de"]
EMAILS += ["Bob+1@BÜCHER.de", "bob@xn--bcher-kva.de", "carol@example.org"]
OPAQUE = ["fp_1", " fp_1 ", "fp_2", "cus_9", "a" * 200]
EXPIRIES = [None, None, NOW - 10, NOW - 0.5, NOW, NOW + 0.5, NOW + 10]
IDS = st.integers(1, 25)


def values_of(kind: str) -> st.SearchStrategy[str]:
    if kind == "ip":
        return address_texts()
    if kind == "ip_range":
        return network_texts()
    if kind == "card_bin":
        return st.sampled_from(BINS)
    if kind == "email":
        return st.sampled_from(EMAILS)
    return st.sampled_from(OPAQUE)


@st.composite
def rows(draw: st.DrawFn) -> tuple[int, str, str, float | None]:
    kind = draw(st.sampled_from(KINDS))
    return draw(IDS), kind, draw(values_of(kind)), draw(st.sampled_from(EXPIRIES))


@st.composite
def queries(draw: st.DrawFn) -> tuple[str, str, float]:
    kind = draw(st.sampled_from(KINDS))
    now = draw(st.sampled_from([NOW, NOW, NOW - 1, NOW + 1]))
    return kind, draw(values_of(kind)), now


def probe_of(entry: Entry, position: int) -> tuple[str, str]:
    """A query aimed at a held entry: at it, at a network's edges or just past them, in
    another spelling."""
    if entry.kind == "ip_range" and position % 6 == 5:
        return "ip_range", str(reference_network(entry.value))
    if entry.kind in ("ip", "ip_range"):
        if entry.kind == "ip":
            network = ipaddress.ip_network(reference_address(entry.value))
        else:
            network = reference_network(entry.value)
        first, last = int(network.network_address), int(network.broadcast_address)
        number = [first, last, (first + last) // 2, first - 1, last + 1][position % 5]
        number %= 1 << network.max_prefixlen
        if network.version == 6:
            return "ip", str(ipaddress.IPv6Address(number))
        text = str(ipaddress.IPv4Address(number))
        return "ip", f"::ffff:{text}" if position >= 6 else text
    if entry.kind == "card_bin":
        digits = "".join(entry.value.split())
        other = digits + "00" if len(digits) == 6 else digits[:6]
        return "card_bin", digits if position % 2 else other
    if entry.kind == "email":
        local, domain = entry.value.strip().split("@")
        return "email", entry.value if position % 2 else f"{local.upper()}+probe@{domain.upper()}"
    return entry.kind, f" {entry.value} "


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("upsert"), st.lists(rows(), min_size=1, max_size=6)),
        st.tuples(st.just("remove"), st.lists(IDS, max_size=4)),
        st.tuples(st.just("query"), queries()),
        st.tuples(
            st.just("probe"),
            st.tuples(st.integers(0, 99), st.integers(0, 11), st.sampled_from([NOW, NOW + 1])),
        ),
    ),
    min_size=10,
    max_size=60,
)


def run_against_reference(operations: list[tuple[str, Any]]) -> None:
    matcher, held = Matcher(), dict[int, Entry]()
    for operation, argument in operations:
        if operation == "upsert":
            matcher.upsert(argument)
            held.update({row[0]: Entry(row[1], row[2], row[3]) for row in argument})
        elif operation == "remove":
            matcher.remove(argument)
            for entry_id in argument:
                held.pop(entry_id, None)
        else:
            if operation == "probe":
                if not held:
                    continue
                pick, position, now = argument
                kind, value = probe_of(held[sorted(held)[pick % len(held)]], position)
            else:
                kind, value, now = argument
            expected = reference_match(held, kind, value, now)
            assert matcher.match(kind, value, now) == expected, (kind, value)
            assert matcher.blocked(kind, value, now) == bool(expected), (kind, value)
        assert len(matcher) == len(held)


@given(OPERATIONS)
@settings(max_examples=400, deadline=None)
def test_random_changes_and_queries_agree_with_a_naive_scan(
    operations: list[tuple[str, Any]],
) -> None:
    run_against_reference(operations)


@given(OPERATIONS)
@settings(max_examples=200, deadline=None)
def test_agreement_holds_when_rebuilds_come_after_a_change_or_two(
    operations: list[tuple[str, Any]],
) -> None:
    with mock.patch.object(networks_module, "MIN_CHANGES_BEFORE_REBUILD", 1):
        run_against_reference(operations)


@given(st.lists(network_texts(), min_size=1, max_size=30), st.lists(address_texts(), max_size=30))
@settings(max_examples=200, deadline=None)
def test_every_network_that_contains_an_address_is_reported(
    networks: list[str], addresses: list[str]
) -> None:
    matcher = Matcher()
    matcher.upsert((index, "ip_range", text, None) for index, text in enumerate(networks))
    for text in addresses:
        expected = [
            index
            for index, network in enumerate(networks)
            if reference_address(text) in reference_network(network)
        ]
        assert matcher.match("ip", text, NOW) == expected


def test_many_networks_then_removals_stay_right_through_the_small_union_and_rebuilds() -> None:
    """Networks in batches of every size (merged into the small union, or causing a rebuild),
    then most removed in batches, then half the rest expired: each state checked against a
    scan, at addresses inside the networks, at their edges and just past them."""
    rng = random.Random(7)
    matcher, held = Matcher(), dict[int, Network]()
    with (
        mock.patch.object(networks_module, "MIN_CHANGES_BEFORE_REBUILD", 256),
        mock.patch.object(
            networks_module.Family,
            "rebuild",
            autospec=True,
            side_effect=networks_module.Family.rebuild,
        ) as v4_rebuilds,
        mock.patch.object(
            networks_module._V6Family,
            "rebuild",
            autospec=True,
            side_effect=networks_module._V6Family.rebuild,
        ) as v6_rebuilds,
    ):
        for batch_size in [1, 10, 300, 1, 1200, 50]:
            batch = [
                (len(held) + index, "ip_range", random_network(rng), None)
                for index in range(batch_size)
            ]
            matcher.upsert(batch)
            held.update({row[0]: ipaddress.ip_network(row[2]) for row in batch})
            assert_same_answers(matcher, held, rng)
        doomed = rng.sample(sorted(held), len(held) * 3 // 4)
        for start in range(0, len(doomed), 100):
            matcher.remove(doomed[start : start + 100])
            for gone in doomed[start : start + 100]:
                del held[gone]
            assert_same_answers(matcher, held, rng, samples=160)
        survivors = sorted(held)[::2]
        matcher.upsert((i, "ip_range", str(held.pop(i)), NOW - 1) for i in survivors)
        assert_same_answers(matcher, held, rng)
    assert v4_rebuilds.called and v6_rebuilds.called  # so both paths were taken above


def random_network(rng: random.Random) -> str:
    if rng.random() < 0.6:
        length = rng.choice([8, 16, 20, 24, 24, 28, 32])
        return str(ipaddress.IPv4Network((rng.getrandbits(32), length), strict=False))
    length = rng.choice([16, 32, 48, 64, 64, 128])
    top = rng.choice([0x2001, 0x2A02, 0x2A03])  # clustered, as real IPv6 traffic is
    number = (top << 112) | rng.getrandbits(112)
    return str(ipaddress.IPv6Network((number, length), strict=False))


def assert_same_answers(
    matcher: Matcher, held: dict[int, Network], rng: random.Random, samples: int = 400
) -> None:
    networks = list(held.items())
    probes: list[Address] = []
    for _, network in rng.sample(networks, min(len(networks), samples // 4)):
        inside = network[rng.randrange(min(network.num_addresses, 1 << 30))]
        first, last = int(network.network_address), int(network.broadcast_address)
        edges = [first - 1, first, last, last + 1]
        probes.append(inside)
        probes += [
            ipaddress.ip_address(number) if network.version == 4 else ipaddress.IPv6Address(number)
            for number in edges
            if 0 <= number < 1 << network.max_prefixlen
        ]
    probes += [ipaddress.ip_address(random_network(rng).split("/")[0]) for _ in range(samples // 4)]
    for address in probes:
        expected = sorted(i for i, network in networks if address in network)
        assert matcher.match("ip", str(address), NOW) == expected, address
        assert matcher.blocked("ip", str(address), NOW) == bool(expected), address


# The edges, one by one.


def screened(entries: list[tuple[str, str]], kind: str, value: str) -> list[int]:
    matcher = Matcher()
    matcher.upsert((index, k, v, None) for index, (k, v) in enumerate(entries, start=1))
    return matcher.match(kind, value, NOW)


def test_ipv4_slash_zero_blocks_every_ipv4_address_and_no_ipv6() -> None:
    matcher = Matcher()
    matcher.upsert([(1, "ip_range", "0.0.0.0/0", None)])
    for address in ["0.0.0.0", "10.1.2.3", "255.255.255.255", "::ffff:8.8.8.8"]:  # noqa: S104
        assert matcher.blocked("ip", address), address
    for address in ["::", "2001:db8::1", "::8.8.8.8"]:  # the last: IPv4-compatible, not mapped
        assert not matcher.blocked("ip", address), address


def test_ipv6_slash_zero_blocks_every_ipv6_address_but_not_ipv4_mapped_ones() -> None:
    """Documented choice: ::ffff:1.2.3.4 is screened as the IPv4 address 1.2.3.4 only."""
    matcher = Matcher()
    matcher.upsert([(1, "ip_range", "::/0", None)])
    for address in ["::", "::1", "2001:db8::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]:
        assert matcher.blocked("ip", address), address
    assert not matcher.blocked("ip", "::ffff:1.2.3.4")
    assert not matcher.blocked("ip", "1.2.3.4")


def test_a_slash_32_or_slash_128_blocks_exactly_one_address_like_an_ip_entry() -> None:
    entries = [("ip_range", "192.0.2.7/32"), ("ip", "192.0.2.7"), ("ip_range", "2001:db8::7/128")]
    entries.append(("ip", "2001:db8::7"))
    assert screened(entries, "ip", "192.0.2.7") == [1, 2]
    assert screened(entries, "ip", "::ffff:192.0.2.7") == [1, 2]
    assert screened(entries, "ip", "2001:db8::7") == [3, 4]
    for neighbour in ["192.0.2.6", "192.0.2.8", "2001:db8::6", "2001:db8::8"]:
        assert screened(entries, "ip", neighbour) == [], neighbour


def test_overlapping_networks_are_all_reported() -> None:
    entries = [("ip_range", "10.0.0.0/8"), ("ip_range", "10.1.0.0/16"), ("ip_range", "10.1.2.0/24")]
    entries += [("ip_range", "10.2.0.0/16"), ("ip", "10.1.2.3")]
    assert screened(entries, "ip", "10.1.2.3") == [1, 2, 3, 5]
    assert screened(entries, "ip", "10.1.3.1") == [1, 2]
    assert screened(entries, "ip", "10.200.0.1") == [1]


def test_an_ipv4_mapped_network_is_held_as_the_ipv4_network() -> None:
    assert normalise("ip_range", "::ffff:10.1.0.0/112") == "10.1.0.0/16"
    assert screened([("ip_range", "::ffff:10.1.0.0/112")], "ip", "10.1.255.255") == [1]
    assert normalise("ip", "::ffff:10.1.2.3") == "10.1.2.3"


def test_an_expired_entry_does_not_block_and_one_expiring_later_does() -> None:
    matcher = Matcher()
    matcher.upsert(
        [(1, "card_fingerprint", "fp_old", NOW - 1), (2, "card_fingerprint", "fp_new", NOW + 60)]
    )
    matcher.upsert([(3, "ip_range", "10.0.0.0/8", NOW), (4, "ip_range", "10.0.0.0/16", NOW + 60)])
    assert not matcher.blocked("card_fingerprint", "fp_old", NOW)
    assert matcher.blocked("card_fingerprint", "fp_new", NOW)
    assert matcher.match("ip", "10.0.0.1", NOW) == [4]  # expiring at `now` is expired
    assert matcher.match("ip", "10.0.0.1", NOW + 61) == []
    assert len(matcher) == 4  # expired entries are held until removed


def test_the_default_clock_is_now() -> None:
    matcher = Matcher()
    matcher.upsert(
        [
            (1, "email", "a@example.com", time.time() - 1),
            (2, "email", "b@example.com", time.time() + 3600),
        ]
    )
    assert not matcher.blocked("email", "a@example.com")
    assert matcher.blocked("email", "b@example.com")


def test_removing_one_of_two_overlapping_networks_keeps_the_other() -> None:
    matcher = Matcher()
    matcher.upsert([(1, "ip_range", "10.0.0.0/8", None), (2, "ip_range", "10.1.0.0/16", None)])
    matcher.upsert([(3, "ip_range", "2001:db8::/32", None), (4, "ip_range", "2001:db8::/48", None)])
    matcher.remove([2, 3, 999])  # an unknown id is ignored
    assert matcher.match("ip", "10.1.0.1") == [1]
    assert matcher.match("ip", "2001:db8::1") == [4]
    assert not matcher.blocked("ip", "2001:db8:1::1")
    assert len(matcher) == 2


def test_an_upserted_id_replaces_its_old_value() -> None:
    matcher = Matcher()
    matcher.upsert([(1, "ip_range", "10.0.0.0/8", None)])
    matcher.upsert([(1, "email", "a@example.com", None)])
    assert not matcher.blocked("ip", "10.0.0.1")
    assert matcher.match("email", "A+x@Example.com") == [1]
    assert len(matcher) == 1


def test_bins_match_six_digit_entries_by_prefix_and_eight_digit_ones_exactly() -> None:
    entries = [("card_bin", "424242"), ("card_bin", "42424299"), ("card_bin", "5555 5555")]
    assert screened(entries, "card_bin", "42424299") == [1, 2]
    assert screened(entries, "card_bin", "42424200") == [1]
    assert screened(entries, "card_bin", "424242") == [1]  # 6 digits: 6-digit entries only
    assert screened(entries, "card_bin", "555555") == []
    assert screened(entries, "card_bin", "55555555") == [3]


def test_emails_match_whatever_the_case_tag_or_domain_script() -> None:
    entries = [("email", "Ann.Lee+promo@Example.COM"), ("email", "bob@bücher.de")]
    assert screened(entries, "email", "ann.lee@example.com") == [1]
    assert screened(entries, "email", "  ANN.LEE+other@example.com ") == [1]
    assert screened(entries, "email", "bob@xn--bcher-kva.de") == [2]
    assert screened(entries, "email", "Bob+1@BÜCHER.de") == [2]
    assert screened(entries, "email", "annlee@example.com") == []


def test_opaque_values_match_exactly_after_trimming_and_only_within_their_kind() -> None:
    entries = [("card_fingerprint", " Xt5EWLLDS7FJjR1c "), ("customer", "cus_1"), ("iban", "ab12")]
    assert screened(entries, "card_fingerprint", "Xt5EWLLDS7FJjR1c") == [1]
    assert screened(entries, "card_fingerprint", "xt5ewllds7fjjr1c") == []  # case matters
    assert screened(entries, "customer", "cus_1") == [2]
    assert screened(entries, "iban", "cus_1") == []
    assert screened(entries, "iban", "ab12") == [3]


def test_an_ip_range_query_matches_the_same_network_only() -> None:
    entries = [("ip_range", "10.0.0.0/8"), ("ip_range", "10.0.0.0/16")]
    assert screened(entries, "ip_range", "::ffff:10.0.0.0/104") == [1]
    assert screened(entries, "ip_range", "10.0.0.0/24") == []


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        (
            "ip_range",
            "10.0.0.1/8",
            "'10.0.0.1/8' has host bits set, so it is not a network; did you mean 10.0.0.0/8?",
        ),
        ("ip_range", "2001:db8::1/32", "did you mean 2001:db8::/32?"),
        ("ip_range", "::ffff:10.0.0.1/104", "did you mean 10.0.0.0/8?"),
        ("ip_range", "10.0.0.0/33", "'10.0.0.0/33' is not an IPv4 or IPv6 network"),
        ("ip_range", "10.0.0.0/8 junk", "is not an IPv4 or IPv6 network"),
        ("ip", "10.0.0.0/8", "is not an IPv4 or IPv6 address; to block a network, use an ip_range"),
        ("ip", "10.0.0.256", "'10.0.0.256' is not an IPv4 or IPv6 address"),
        ("ip", "fe80::1%eth0", "give the address without it"),
        ("ip", "", "is not an IPv4 or IPv6 address"),
        ("card_bin", "12345", "'12345' is not a card BIN; give the first 6 or 8 digits"),
        ("card_bin", "1234567", "is not a card BIN"),
        ("email", "ann.example.com", "it needs exactly one @"),
        ("email", "ann@x@example.com", "it needs exactly one @"),
        ("email", "ann@localhost", "its domain needs a dot between two names"),
        ("email", "ann@example..com", "its domain needs a dot between two names"),
        ("email", "+tag@example.com", "nothing before the @"),
        ("card_fingerprint", "   ", "the card fingerprint is empty"),
        ("customer", "c" * 201, "the customer reference has 201 characters; the most"),
        ("iban", "", "the IBAN hash is empty"),
        ("colour", "red", "'colour' is not a kind of blocklist entry; use one of card_fingerprint"),
    ],
)
def test_invalid_values_are_refused_with_a_sentence_an_agent_can_act_on(
    kind: str, value: str, message: str
) -> None:
    with pytest.raises(InvalidBlocklistValue) as refused:
        normalise(kind, value)
    assert message in str(refused.value)
    with pytest.raises(InvalidBlocklistValue) as screened_too:
        Matcher().match(kind, value)
    assert message in str(screened_too.value)
    if kind != "colour":
        with pytest.raises(InvalidBlocklistValue):
            Matcher().blocked(kind, value)


def test_a_replaced_matcher_is_freed_at_once_not_left_to_the_garbage_collector() -> None:
    """The mirror swaps in a fresh matcher on reload; the old one's memory must go with it."""
    matcher = Matcher()
    matcher.upsert([(1, "ip_range", "2001:db8::/32", None), (2, "email", "a@example.com", None)])
    matcher.blocked("ip", "2001:db8::1")
    gone = weakref.ref(matcher)
    gc.disable()
    try:
        del matcher
        assert gone() is None
    finally:
        gc.enable()


def test_an_invalid_row_names_its_entry_and_changes_nothing() -> None:
    matcher = Matcher()
    batch = [(1, "ip", "10.0.0.1", None), (2, "ip_range", "10.0.0.1/8", None)]
    with pytest.raises(InvalidBlocklistValue, match=r"entry 2: .*did you mean 10\.0\.0\.0/8"):
        matcher.upsert(batch)
    assert len(matcher) == 0
    assert not matcher.blocked("ip", "10.0.0.1")


@pytest.mark.parametrize(
    ("kind", "value", "canonical"),
    [
        ("email", "  Ann.Lee+Promo@Example.COM ", "ann.lee@example.com"),
        ("email", "bob@BÜCHER.de", "bob@xn--bcher-kva.de"),
        ("ip", " 2001:0DB8:0000::0001 ", "2001:db8::1"),
        ("ip", "::ffff:c000:0207", "192.0.2.7"),
        ("ip_range", "2001:DB8:0::/32", "2001:db8::/32"),
        ("ip_range", "10.0.0.0/255.0.0.0", "10.0.0.0/8"),
        ("ip_range", "192.0.2.7", "192.0.2.7/32"),
        ("card_bin", " 4242 4242 ", "42424242"),
        # digits of any script, as sensitive.py reads them (issue 13, finding 1)
        ("card_bin", "\uff14\uff12\uff14\uff12\uff14\uff12", "424242"),
        ("card_bin", "\u0664\u0662\u0664\u0662-\u0664\u0662", "424242"),
        ("customer", "  cus_1\n", "cus_1"),
    ],
)
def test_values_are_stored_in_one_canonical_form(kind: str, value: str, canonical: str) -> None:
    assert normalise(kind, value) == canonical
    assert normalise(kind, canonical) == canonical


@functools.cache
def everything_blocked() -> Matcher:
    matcher = Matcher()
    matcher.upsert([(1, "ip_range", "0.0.0.0/0", None), (2, "ip_range", "::/0", None)])
    return matcher


ADDRESS_LIKE = st.one_of(
    address_texts(),
    st.text(alphabet="0123456789abcdefABCDEF:./% f\x00", max_size=45),
    st.builds(operator.add, address_texts(), st.sampled_from(["%eth0", "\x00", ":", ".1", "/32"])),
)


@given(ADDRESS_LIKE)
@settings(max_examples=500, deadline=None)
def test_the_fast_ip_parse_accepts_exactly_what_normalise_accepts(text: str) -> None:
    matcher = everything_blocked()
    try:
        expected = [1] if ipaddress.ip_address(normalise("ip", text)).version == 4 else [2]
    except InvalidBlocklistValue:
        with pytest.raises(InvalidBlocklistValue):
            matcher.blocked("ip", text)
        return
    assert matcher.match("ip", text) == expected
    assert matcher.blocked("ip", text)


NETWORK_LIKE = st.one_of(
    network_texts(),
    st.builds(
        operator.add,
        address_texts(),
        st.sampled_from(["/0", "/8", "/24", "/024", "/32", "/33", "/96", "/120", "/128", "/"]),
    ),
    st.text(alphabet="0123456789abcdef:./% f", max_size=45),
)


@given(NETWORK_LIKE)
@settings(max_examples=500, deadline=None)
def test_the_fast_network_parse_reads_what_normalise_reads(text: str) -> None:
    families = networks_module.IpFamilies()
    try:
        canonical = ipaddress.ip_network(normalise("ip_range", text))
    except InvalidBlocklistValue:
        with pytest.raises(InvalidBlocklistValue):
            families.network(text)
        return
    family, length, number = families.network(text)
    assert (family.bits, length, number) == (
        canonical.max_prefixlen,
        canonical.prefixlen,
        int(canonical.network_address),
    )


def test_a_matcher_sized_for_a_load_matches_as_one_that_grew() -> None:
    rows = [
        (1, "card_fingerprint", "fp_1", None),
        (2, "card_bin", "424242", NOW + 10),
        (3, "email", "a@example.com", None),
        (4, "ip", "192.0.2.1", NOW - 1),
        (5, "ip_range", "198.51.100.0/24", None),
        (6, "ip", "2001:db8::1", None),
    ]
    sized = Matcher()
    sized.reserve(entries=3, exact=200, v4_addresses=1, expiring=1)  # some too few: it grows
    sized.upsert(rows)
    grown = Matcher()
    grown.upsert(rows)
    for kind, value in [
        ("card_fingerprint", "fp_1"),
        ("card_bin", "42424299"),
        ("email", "A+x@example.com"),
        ("ip", "192.0.2.1"),
        ("ip", "198.51.100.7"),
        ("ip", "2001:db8::1"),
        ("ip", "2001:db8::2"),
    ]:
        assert sized.match(kind, value, NOW) == grown.match(kind, value, NOW), (kind, value)
        assert sized.blocked(kind, value, NOW) == bool(grown.match(kind, value, NOW))
    assert sized.match("ip", "198.51.100.7", NOW) == [5]
    assert not sized.blocked("ip", "192.0.2.1", NOW)  # expired


EMAIL_LIKE = st.one_of(
    st.sampled_from([*EMAILS, "ann@example", "ann@.example.com", "ann@example.com.", "a@b..c"]),
    st.emails(),
    st.text(alphabet="abzAZ09._-+@ \tü", max_size=24),
)


@given(EMAIL_LIKE)
@settings(max_examples=500, deadline=None)
def test_an_email_screened_without_its_normaliser_is_one_the_normaliser_keeps_as_it_is(
    text: str,
) -> None:
    """`blocked` hashes a plain address as written: that must be its canonical form."""
    if plain_email(text):
        assert normalise("email", text) == text


def test_plain_and_written_otherwise_addresses_are_screened_alike() -> None:
    """The first query takes the plain path, the second the normaliser: both block."""
    matcher = Matcher()
    matcher.upsert([(1, "email", "ann.lee@example.com", None), (2, "email", "b_2@x-y.de", NOW + 9)])
    assert plain_email("ann.lee@example.com") and not plain_email(" Ann.Lee+x@EXAMPLE.com ")
    for query in ["ann.lee@example.com", " Ann.Lee+x@EXAMPLE.com ", "b_2@x-y.de"]:
        assert matcher.blocked("email", query, NOW), query
    assert not matcher.blocked("email", "b_2@x-y.de", NOW + 10)  # expired
    assert not matcher.blocked("email", "ann.lee@example.org", NOW)
    with pytest.raises(InvalidBlocklistValue):
        matcher.blocked("email", "ann.lee@example")
