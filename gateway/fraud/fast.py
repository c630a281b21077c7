"""POST /v1/fraud/screen without Litestar's per-request machinery (signature model,
dependency resolution, response building): the body decoded by msgspec straight into
`ScreenRequest`, the answer encoded once, the common "allow" answer encoded at import.

Run as the route's `before_request` hook, so the route, its OpenAPI document and the edge
middleware (key, scope, rate limit, body guard) stay as they are. A body it cannot decode goes
on to the handler, where Litestar refuses it exactly as it refuses any other route's."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.response.base import ASGIResponse

from gateway.fraud.schemas import ScreenRequest, ScreenResult
from gateway.fraud.wiring import blocklist_service

_decode = msgspec.json.Decoder(ScreenRequest).decode
_encode = msgspec.json.Encoder().encode


class _BuiltOnce(Response[bytes]):
    """A constant answer whose ASGI response Litestar would build again for every request
    (headers merged, the body's length counted): built for its first request and sent as it
    is after, while the route hands it the same headers and cookies. An ASGIResponse encodes
    its headers into a new list at each send, so a request's own (its X-Request-ID) stay its
    own."""

    __slots__ = ("_built", "_built_for")

    def to_asgi_response(self, app: Any, request: Any, **route: Any) -> ASGIResponse:
        built_for = (request.method, *map(id, route.values()))
        if getattr(self, "_built_for", None) != built_for:
            self._built = super().to_asgi_response(app, request, **route)
            self._built_for = built_for
        return self._built


# Nine screens in ten: one answer, built once (Litestar copies nothing out of a Response).
_ALLOW = _BuiltOnce(
    _encode(ScreenResult(decision="allow", matches=[])), status_code=200, media_type=MediaType.JSON
)


async def screen_fast(request: Request[Any, Any, Any]) -> Response[bytes] | None:
    try:
        asked = _decode(await request.body())
    except msgspec.DecodeError:  # the handler's parsing names what is wrong
        return None
    result = await blocklist_service().screen(asked)
    if result.decision == "allow":
        return _ALLOW
    return Response(_encode(result), status_code=200, media_type=MediaType.JSON)
