"""Which URLs an endpoint may have: http(s), no user name or password in it, and a host from
BG_NOTIFICATION_ALLOWED_HOSTS ("host" or "host:port"). Checked at registration and again before
every delivery, so a host taken off the list is reached no more."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import SplitResult, urlsplit, urlunsplit

from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import sensitive_kind
from gateway.i18n import Message

MAX_URL_LENGTH = 2000
_VISIBLE = re.compile(r"^[\x21-\x7e]+$")  # no spaces, controls or non-ASCII (punycode it)


def _invalid(sentence: Message) -> BillingError:
    return BillingError(ErrorCode.NOTIFICATION_URL_INVALID, sentence)


def parse_endpoint_url(url: str) -> SplitResult:
    """The URL's parts, or a 422 `notification_url_invalid` saying what is wrong."""
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(Message("The URL is longer than {most} characters.", most=MAX_URL_LENGTH))
    if not _VISIBLE.match(url):
        raise _invalid(Message("The URL has spaces, control or non-ASCII characters; encode them."))
    if sensitive_kind(url):  # it is stored and shown, and sent with every try
        raise _invalid(Message("The URL holds an IBAN or a card number; leave it out."))
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise _invalid(Message("The URL cannot be read; give a full https:// address.")) from None
    if parts.scheme not in ("https", "http"):
        raise _invalid(Message("The URL must start with https:// (or http://)."))
    if parts.username is not None or parts.password is not None:
        raise _invalid(
            Message(
                "The URL must not carry a user name or password; the receiver checks the "
                "webhook-signature header instead."
            )
        )
    if not parts.hostname:
        raise _invalid(Message("The URL has no host."))
    if parts.fragment:
        raise _invalid(Message("The URL must not have a #fragment (it is never sent)."))
    return parts


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def host_allowed(parts: SplitResult, allowed: Sequence[str]) -> bool:
    host = (parts.hostname or "").lower()
    port = parts.port or _default_port(parts.scheme)
    return any(entry in (host, f"{host}:{port}") for entry in allowed)


def refusal_of_host(url: str, allowed: Sequence[str]) -> str | None:
    """Why the gateway must not reach `url` now (a sentence), or None when it may."""
    try:
        parts = parse_endpoint_url(url)
    except BillingError as error:
        return error.detail
    if host_allowed(parts, allowed):
        return None
    return (
        f"The host {parts.hostname} is not in BG_NOTIFICATION_ALLOWED_HOSTS; an admin adds it "
        "there before the gateway sends to it."
    )


def normalised_url(parts: SplitResult) -> str:
    """One spelling for one address, so that the same receiver is not registered twice (and
    sent every event twice): the scheme and host in lower case, the scheme's own port left out,
    an empty path as "/". The path and query are kept as written (the receiver reads them)."""
    host = (parts.hostname or "").lower()
    netloc = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    if parts.port is not None and parts.port != _default_port(parts.scheme):
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def check_endpoint_url(url: str, allowed: Sequence[str]) -> str:
    """The URL, checked and normalised (`normalised_url`): 422 `notification_url_invalid` or
    `notification_host_not_allowed`."""
    parts = parse_endpoint_url(url)
    if not host_allowed(parts, allowed):
        raise BillingError(
            ErrorCode.NOTIFICATION_HOST_NOT_ALLOWED,
            Message(
                "The host {host} is not one the gateway may send notifications to; ask an "
                "admin to add it to BG_NOTIFICATION_ALLOWED_HOSTS.",
                host=parts.hostname,
            ),
            extra={"host": parts.hostname},
        )
    return normalised_url(parts)
