"""Give every request an id (accepted from X-Request-ID or generated) and log it once done."""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import unquote

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.db.outage import is_database_outage
from gateway.core.errors import BillingError
from gateway.core.log import get_logger
from gateway.core.sensitive import sensitive_kind_of_token

_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
# A UUID (any case, with or without dashes): what most tools send, digits and all.
_UUID = re.compile(
    r"^(?:[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})$"
)
# Anything else may hold no run of this many digits (punctuation between them ignored): a card
# number has 13 or more, and so does an IBAN glued to other text ("IBANDE89…").
_DIGIT_RUN = re.compile(r"[0-9](?:[._:\-]*[0-9]){12}")
_log = get_logger("gateway.access")


def request_id_for(scope: Scope) -> str:
    """The caller's X-Request-ID if plausible and free of sensitive data, else a new one.
    The id goes unmasked into every log line of the request and back in the response, so it
    is checked as any text is: a card number or IBAN in any spelling ("4539_5787_…") is no id,
    and an id that is not a UUID may not hold enough digits to be one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _acceptable_id(candidate):
                return candidate
    return uuid.uuid4().hex


def _acceptable_id(candidate: str) -> bool:
    if not _ACCEPTABLE_ID.match(candidate) or sensitive_kind_of_token(candidate) is not None:
        return False
    return bool(_UUID.match(candidate)) or not _DIGIT_RUN.search(candidate)


class RequestContextMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request_id = request_id_for(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        # As asked for: by the time middleware runs, routing has cut a mount's prefix off "path".
        # Percent-decoded, so that the log's redaction sees what "%E2%80%8B" stands for.
        path = unquote(scope.get("raw_path", b"").decode("latin-1")) or scope["path"]
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)["x-request-id"] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await next_app(scope, receive, send_with_id)
            except BillingError as refused:  # answered by the exception handler, outside
                status = refused.status
                raise
            except HTTPException as failed:
                status = failed.status_code
                raise
            except Exception as failed:
                status = 503 if is_database_outage(failed) else 500
                raise
            finally:
                _log.info(
                    "request",
                    method=scope.get("method"),
                    path=path,
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
