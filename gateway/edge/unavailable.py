"""The 503 for a database outage, sent straight over ASGI: for the places past the exception
handlers, where a response was already under way (Litestar would turn an exception raised
there into a bare text/plain 500)."""

from __future__ import annotations

import msgspec
from litestar.types import Scope, Send

from gateway.core.db.outage import unavailable
from gateway.edge.problems import PROBLEM_MEDIA_TYPE, problem_body


async def send_unavailable(scope: Scope, send: Send, detail: str | None = None) -> None:
    outage = unavailable()
    body = msgspec.json.encode(problem_body(outage.code, detail or outage.detail, scope=scope))
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in outage.headers.items()),
    ]
    await send({"type": "http.response.start", "status": outage.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
