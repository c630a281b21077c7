"""The /v1 edge as one ASGI middleware layer: the API key (its scope for the route, its rate
limit), then the body guard. One layer rather than two, since every layer costs every request
a wrapper call and its bypass checks; the order and each check are unchanged."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from gateway.edge.auth import PUBLIC_OPT, ApiKeyAuthMiddleware
from gateway.edge.body_guard import BodyGuardMiddleware


class ApiEdgeMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, auth: ApiKeyAuthMiddleware, guard: BodyGuardMiddleware) -> None:
        self._auth = auth
        self._guard = guard

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if not scope["route_handler"].opt.get(PUBLIC_OPT):  # webhooks sign instead
            await self._auth.admit(scope)
        await self._guard.handle(scope, receive, send, next_app)
