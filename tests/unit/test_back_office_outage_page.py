"""piccolo-admin (Starlette) answers an exception with a bare text/plain 500 and then re-raises
it; in front of it, a database outage becomes a 503 page and anything else stays as it was."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from admin.outage import OutagePage


def _starlette_like(error: Exception) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b"Internal Server Error"})
        raise error

    return app


def _call(app: Any, accept: bytes) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "path": "/lead/api/tables/", "headers": [(b"accept", accept)]}
    asyncio.run(app(scope, receive, send))
    return sent


def test_a_database_outage_is_a_503_page() -> None:
    lost = asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
    sent = _call(OutagePage(_starlette_like(lost)), b"text/html")
    assert sent[0]["status"] == 503
    headers = dict(sent[0]["headers"])
    assert headers[b"content-type"].startswith(b"text/html") and headers[b"retry-after"]
    assert b"try again" in sent[1]["body"]


def test_any_other_failure_keeps_its_500() -> None:
    with pytest.raises(RuntimeError):
        _call(OutagePage(_starlette_like(RuntimeError("a bug"))), b"text/html")
