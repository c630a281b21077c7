"""Blocklist values in the one canonical form that the database and the matcher both hold.

Every function raises `InvalidBlocklistValue` with a sentence a support agent can act on: a
`Message`, so the back office says it in the agent's language and the API in English.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from gateway.core.sensitive import sensitive_kind, without_separators
from gateway.i18n import N_, Message

KINDS: tuple[str, ...] = (
    "card_fingerprint",
    "card_bin",
    "ip",
    "ip_range",
    "email",
    "iban",
    "customer",
)
OPAQUE_MAX_LENGTH = 200

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _shown(value: str) -> str:
    """The value as a refusal quotes it; never a card number or IBAN. Its repr would escape
    the invisible characters between digits ("4\\xad5\\xad3…") past any later redaction."""
    return Message(N_("The value")) if sensitive_kind(value) else repr(value)


class InvalidBlocklistValue(ValueError):  # noqa: N818  (the name the service imports)
    """A value that cannot be a blocklist entry (or a query) of the kind given."""

    @property
    def sentence(self) -> str:
        """What was raised: a `Message` (said again in the reader's language) or plain text."""
        first = self.args[0] if self.args else None
        return first if isinstance(first, str) else str(self)


def normalise(kind: str, value: str) -> str:
    """The canonical form of `value` as a `kind` entry, as stored and as matched."""
    try:
        normaliser = NORMALISERS[kind]
    except KeyError:
        raise unknown_kind(kind) from None
    return normaliser(value)


def unknown_kind(kind: str) -> InvalidBlocklistValue:
    return InvalidBlocklistValue(
        Message(
            "{value} is not a kind of blocklist entry; use one of {kinds}",
            value=_shown(kind),
            kinds=", ".join(KINDS),
        )
    )


def canonical_address(value: str) -> Address:
    """One address; an IPv4-mapped IPv6 address (::ffff:1.2.3.4) is its IPv4 address."""
    text = value.strip()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        if "/" in text:
            raise InvalidBlocklistValue(
                Message(
                    "{value} is not an IPv4 or IPv6 address; to block a network, use an "
                    "ip_range entry",
                    value=_shown(value),
                )
            ) from None
        raise InvalidBlocklistValue(
            Message("{value} is not an IPv4 or IPv6 address", value=_shown(value))
        ) from None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            raise InvalidBlocklistValue(
                Message(
                    "{value} names a network interface (%{interface}); give the address without it",
                    value=_shown(value),
                    interface=address.scope_id,
                )
            )
        return address.ipv4_mapped or address
    return address


def canonical_network(value: str) -> Network:
    """One network, host bits clear; ::ffff:a.b.c.d/n (n >= 96) is the IPv4 a.b.c.d/(n-96)."""
    text = value.strip()
    if "%" in text:
        raise InvalidBlocklistValue(
            Message(
                "{value} names a network interface (after %); give the network without it",
                value=_shown(value),
            )
        )
    try:
        return _unmapped(ipaddress.ip_network(text, strict=True))
    except ValueError:
        pass
    try:
        meant = _unmapped(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise InvalidBlocklistValue(
            Message("{value} is not an IPv4 or IPv6 network", value=_shown(value))
        ) from None
    raise InvalidBlocklistValue(
        Message(
            "{value} has host bits set, so it is not a network; did you mean {network}?",
            value=_shown(value),
            network=str(meant),
        )
    )


def _unmapped(network: Network) -> Network:
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


def normalise_ip(value: str) -> str:
    return str(canonical_address(value))


def normalise_ip_range(value: str) -> str:
    return str(canonical_network(value))


def normalise_card_bin(value: str) -> str:
    """6 or 8 digits; separators are removed, digits of any script read as digits."""
    if (len(value) == 8 or len(value) == 6) and value.isascii() and value.isdigit():
        return value  # the form queries nearly always arrive in
    digits = without_separators(value)
    if (len(digits) == 8 or len(digits) == 6) and digits.isascii() and digits.isdigit():
        return digits
    raise InvalidBlocklistValue(
        Message(
            "{value} is not a card BIN; give the first 6 or 8 digits of the card number",
            value=_shown(value),
        )
    )


# An address that `normalise_email` returns unchanged, as nearly every query is written: lower
# case ASCII, no spaces, no +tag, one @ and a domain of dotted names. One match in C, where the
# checks below take a dozen calls; anything else goes through them.
plain_email = re.compile(r"[a-z0-9._-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+").fullmatch


def normalise_email(value: str) -> str:
    """Trimmed, lower case, without the +tag of the local part, the domain in ASCII (IDNA)."""
    text = value.strip().lower()
    local, at, domain = text.partition("@")
    if not at or "@" in domain:
        raise InvalidBlocklistValue(
            Message("{value} is not an email address: it needs exactly one @", value=_shown(value))
        )
    tagged = "+" in local
    if tagged:  # a+tag@x and a@x reach the same mailbox
        local = local[: local.index("+")]
    if not local:
        raise InvalidBlocklistValue(
            Message("{value} is not an email address: nothing before the @", value=_shown(value))
        )
    canonical = not tagged and domain.isascii()  # as most queries are: no new string to make
    if not domain.isascii():
        domain = _ascii_domain(value, domain)
    if "." not in domain or domain[0] == "." or domain[-1] == "." or ".." in domain:
        raise InvalidBlocklistValue(
            Message(
                "{value} is not an email address: its domain needs a dot between two names",
                value=_shown(value),
            )
        )
    return text if canonical else f"{local}@{domain}"


def _ascii_domain(value: str, domain: str) -> str:
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidBlocklistValue(
            Message(
                "{value} is not an email address: its domain is not a valid domain name",
                value=_shown(value),
            )
        ) from None


def _opaque(label: str) -> Callable[[str], str]:
    """Provider fingerprints, customer references and IBAN hashes: compared as given. `label`
    is marked for the catalogues where it is given."""

    def normalise_opaque(value: str) -> str:
        text = value.strip()
        if not text:
            raise InvalidBlocklistValue(
                Message("the {label} is empty; paste the value to block", label=Message(label))
            )
        if len(text) > OPAQUE_MAX_LENGTH:
            raise InvalidBlocklistValue(
                Message(
                    "the {label} has {length} characters; the most a {label} can have is {most}",
                    label=Message(label),
                    length=len(text),
                    most=OPAQUE_MAX_LENGTH,
                )
            )
        return text

    return normalise_opaque


NORMALISERS: dict[str, Callable[[str], str]] = {
    "card_fingerprint": _opaque(N_("card fingerprint")),
    "card_bin": normalise_card_bin,
    "ip": normalise_ip,
    "ip_range": normalise_ip_range,
    "email": normalise_email,
    "iban": _opaque(N_("IBAN hash")),
    "customer": _opaque(N_("customer reference")),
}
