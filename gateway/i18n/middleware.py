"""Sets the language and time zone of every back-office request (not the API's: `/v1` stays
English). The staff member's choice travels in two cookies written at sign-in and on the
preferences page from their stored preference, so no request pays a database read for it;
without them the browser's Accept-Language decides."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from gateway.core.catalogues import current_language, current_time_zone
from gateway.i18n.negotiation import negotiate, valid_time_zone

LANGUAGE_COOKIE = "bg_lang"
TIME_ZONE_COOKIE = "bg_tz"
_NOT_TRANSLATED = ("/v1/", "/health/", "/metrics", "/schema")


def _request_cookies(scope: Any) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:  # a malformed cookie header chooses nothing
                return {}
    return {key: morsel.value for key, morsel in jar.items()}


def language_and_zone(scope: Any, default_zone: str) -> tuple[str, str]:
    cookies = _request_cookies(scope)
    accept = next((v for k, v in scope.get("headers", ()) if k == b"accept-language"), b"")
    language = negotiate(accept.decode("latin-1")[:500], cookies.get(LANGUAGE_COOKIE))
    zone = valid_time_zone(cookies.get(TIME_ZONE_COOKIE)) or default_zone
    return language, zone


class LocaleMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, default_zone: str) -> None:
        self.default_zone = default_zone

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["path"].startswith(_NOT_TRANSLATED):
            await next_app(scope, receive, send)
            return
        language, zone = language_and_zone(scope, self.default_zone)
        language_token = current_language.set(language)
        zone_token = current_time_zone.set(zone)

        async def send_with_language(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"content-language", language.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await next_app(scope, receive, send_with_language)
        finally:
            current_language.reset(language_token)
            current_time_zone.reset(zone_token)
