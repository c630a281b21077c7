"""The nesting cap for bodies the /v1 body guard never sees: the back office's JSON forms and
tables (piccolo-admin parses with json.loads, and 5,000 brackets raised RecursionError there),
the sign-in pages, and any mount added later.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from gateway.edge.body_guard import read_body, replaying
from gateway.edge.json_depth import refuse_deep_json

_BODY_GUARDED = "/v1/"  # the body guard reads, caps and parses these with per-route limits
_NO_BODY = {"GET", "HEAD", "OPTIONS"}


class JsonDepthGuardMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, max_body_bytes: int, max_json_depth: int) -> None:
        self._limit = max_body_bytes
        self._max_depth = max_json_depth

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        path = str(scope.get("raw_path", b"").decode("latin-1") or scope.get("path", ""))
        if scope.get("method") in _NO_BODY or path.startswith(_BODY_GUARDED):
            await next_app(scope, receive, send)
            return
        # any content type: FastAPI (under piccolo-admin) parses a body without one as JSON
        body = await read_body(receive, self._limit)
        refuse_deep_json(body, self._max_depth)
        await next_app(scope, replaying(body, receive), send)
