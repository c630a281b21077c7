"""Refuse a card number or an IBAN anywhere in a URL: its path (path parameters included) and
every name and value of its query string, in any spelling.

A URL ends up in access logs, proxies and browser histories, so the gateway never takes either
there: an IBAN is screened with POST /v1/fraud/screen, a card is named by its fingerprint.
The refusal names where it was found, never what.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import sensitive_kind
from gateway.edge.url_text import refuse_unprintable_url


def _url_texts(scope: Scope) -> list[tuple[str, str]]:
    """(where, text): the decoded path, then each query name and value on its own."""
    texts = [("path", str(scope.get("path", "")))]
    query = scope.get("query_string", b"").decode("utf-8", "replace")
    for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        texts += [("query string", name), ("query string", value)]
    return texts


def refuse_sensitive_url(scope: Scope) -> None:
    for where, text in _url_texts(scope):
        found = sensitive_kind(text)
        if found == "card_number":
            raise BillingError(
                ErrorCode.CARD_NUMBER_NOT_ACCEPTED,
                f"The URL's {where} holds what looks like a card number. The gateway never "
                "accepts card numbers: remove it and refer to cards by the provider's "
                "fingerprint.",
            )
        if found == "iban":
            raise BillingError(
                ErrorCode.IBAN_OUTSIDE_IBAN_FIELD,
                f"The URL's {where} holds an IBAN. An IBAN never goes in a URL, where it would "
                "be logged: screen it with POST /v1/fraud/screen, or send it in payload.iban.",
            )


class UrlGuardMiddleware(ASGIMiddleware):
    """Every URL, before routing: plain text only (url_text), then no card number or IBAN."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        refuse_unprintable_url(scope)
        refuse_sensitive_url(scope)
        await next_app(scope, receive, send)
