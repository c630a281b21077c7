"""Authenticate `Authorization: Bearer <key>`, check the route's scope, apply the rate limit."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from gateway.api_keys.service import ApiClient, authenticate
from gateway.core.errors import BillingError, ErrorCode
from gateway.edge.rate_limit import ApiKeyRateLimiter

SCOPE_OPT = "scope"  # route opt naming the scope a handler needs
PUBLIC_OPT = "public"  # route opt for handlers that take no API key (webhooks sign instead)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if kind.lower() == "bearer" else None
    return None


def client_of(scope: Scope) -> ApiClient:
    client = scope.get("user")
    assert isinstance(client, ApiClient), "route is not behind ApiKeyAuthMiddleware"
    return client


class ApiKeyAuthMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)
    exclude_opt_key = PUBLIC_OPT

    def __init__(self, limiter: ApiKeyRateLimiter) -> None:
        self._limiter = limiter

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        await self.admit(scope)
        await next_app(scope, receive, send)

    async def admit(self, scope: Scope) -> None:
        """The key, its scope for this route and its rate limit; the client in scope["user"]."""
        peer = scope.get("client")
        address = peer[0] if peer else "unknown"
        presented = _bearer(scope)
        client = await self._limiter.authenticating(address, lambda: authenticate(presented))
        await self._limiter.check(str(client.id), client.rate_limit_per_minute)
        # Deny by default: a /v1 route that names no scope is open to no key.
        needed = scope["route_handler"].opt.get(SCOPE_OPT, "undeclared")
        if needed not in client.scopes:
            raise BillingError(
                ErrorCode.FORBIDDEN,
                f"This API key lacks the scope {needed!r} needed here; ask an admin to issue "
                "a key with it.",
                extra={"required_scope": needed},
            )
        scope["user"] = client
