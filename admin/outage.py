"""The back office while the database is unreachable: a 503 page that says to try again,
never the bare text/plain 500 that piccolo-admin's Starlette app (or Litestar, for an error
raised in the guard) would send."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from admin.guard import ASGIApp, Receive, Scope, Send
from gateway.core.db.outage import RETRY_AFTER_SECONDS, is_database_outage
from gateway.core.log import get_logger
from gateway.i18n import Message, current_language, direction, gettext, translate


def _message() -> str:
    """The sentence, in the reader's language (the locale middleware has set it)."""
    return translate(
        Message(
            "The back office cannot reach its database just now. Nothing was lost; "
            "try again in {seconds} seconds.",
            seconds=RETRY_AFTER_SECONDS,
        )
    )


def _page() -> bytes:
    title = escape(gettext("Back office unavailable"))
    return (
        f'<!doctype html><html lang="{current_language.get()}" dir="{direction()}">'
        f"<meta charset=utf-8><title>{title}</title>"
        f"<meta http-equiv=refresh content={RETRY_AFTER_SECONDS}>"
        "<body style=\"font-family: system-ui, 'Noto Sans Arabic', 'Segoe UI', Tahoma,"
        ' sans-serif">'
        f"<h1>{title}</h1><p>{escape(_message())}</p></body></html>"
    ).encode()


_log = get_logger("admin")


class OutagePage:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[dict[str, Any]] = []  # a 500 is held until we know what caused it
        started = False

        async def holding_500s(message: dict[str, Any]) -> None:
            nonlocal started
            if held or (message["type"] == "http.response.start" and message["status"] == 500):
                held.append(message)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, holding_500s)
        except Exception as error:
            if started or not is_database_outage(error):
                for message in held:
                    await send(message)
                raise
            _log.warning("back office: database unreachable", error=repr(error))
            await _unavailable(scope, send)
            return
        for message in held:
            await send(message)


async def _unavailable(scope: Scope, send: Send) -> None:
    accept = dict(scope["headers"]).get(b"accept", b"")
    if b"text/html" in accept:
        body, content_type = _page(), b"text/html; charset=utf-8"
    else:  # the single-page app's API calls read `detail`
        body, content_type = json.dumps({"detail": _message()}).encode(), b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", content_type),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
