"""Caps on a request's head (request line and headers) that hold before the app sees it.

httptools, uvicorn's fast parser, has no limit of its own: it gathers a header of any size in
memory (one 64 MB header stalled the event loop for 2 s). This protocol counts the head as it
arrives and, once it passes BG_MAX_HEADER_BYTES or BG_MAX_HEADER_FIELDS, answers 431 and closes
the connection, so the body is never read and the app never runs. It covers every mount served
by the process: /v1, the staff sign-in and the back office alike.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any, cast

from litestar.types import Scope
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from gateway.core.errors import ErrorCode
from gateway.core.log import get_logger
from gateway.edge.problems import PROBLEM_MEDIA_TYPE, problem_body
from settings import get_settings

_log = get_logger("gateway.edge.header_limits")
_HEADER_LINE_OVERHEAD = len(b": \r\n")


class _HeadTooLarge(Exception):  # noqa: N818 (a signal to stop the parser, not an error)
    pass


class HeaderLimitedProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self._max_bytes = settings.max_header_bytes
        self._max_fields = settings.max_header_fields
        self._reading_head = True
        # Bytes received while a head is still incomplete: httptools reports a header only once
        # it has all of it, so a header that never ends is caught by this count alone.
        self._unparsed_head_bytes = 0
        self._head_bytes = 0  # request line and headers parsed so far
        self._fields = 0
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            self._unparsed_head_bytes += len(data)
        super().data_received(data)
        if self._reading_head and self._unparsed_head_bytes > self._max_bytes:
            self._refuse()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = self._fields = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url), fields=0)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + _HEADER_LINE_OVERHEAD, fields=1)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True
        self._unparsed_head_bytes = 0

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers 400 to any parser error, including the stop `_count` raises.
        if not self._refused:
            super().send_400_response(msg)

    def _count(self, size: int, fields: int) -> None:
        self._head_bytes += size
        self._fields += fields
        if self._head_bytes > self._max_bytes or self._fields > self._max_fields:
            self._refuse()
            raise _HeadTooLarge

    def _refuse(self) -> None:
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        detail = (
            f"The request line and headers are over {self._max_bytes} bytes or "
            f"{self._max_fields} fields; send fewer or smaller headers (large cookies are a "
            "common cause)."
        )
        scope = cast(Scope, {"state": {"request_id": uuid.uuid4().hex}})
        body = json.dumps(problem_body(ErrorCode.REQUEST_HEADERS_TOO_LARGE, detail, scope=scope))
        content = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            content += [name, b": ", value, b"\r\n"]
        content += [
            f"content-type: {PROBLEM_MEDIA_TYPE}\r\n".encode(),
            f"content-length: {len(body)}\r\n".encode(),
            b"connection: close\r\n\r\n",
            body.encode(),
        ]
        self.transport.write(b"".join(content))
        self.transport.close()
        _log.warning(
            "request.head_too_large",
            client=self.client[0] if self.client else None,
            head_bytes=max(self._head_bytes, self._unparsed_head_bytes),
            fields=self._fields,
        )
