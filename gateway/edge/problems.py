"""RFC 9457 problem details for every error, from one exception-to-problem map."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.types import Scope

from gateway.core.db.outage import is_database_outage, unavailable
from gateway.core.errors import HTTP_STATUS, BillingError, ErrorCode
from gateway.core.log import get_logger
from gateway.core.sensitive import redact_value
from gateway.edge.fault_log import short_traceback, where_raised
from gateway.edge.request_context import request_id_for
from gateway.problem_types import problem_type_of

PROBLEM_MEDIA_TYPE = "application/problem+json"
# `type` is the gateway's own page explaining the code (gateway/edge/problem_pages.py), as an
# absolute URL built from the request's base: RFC 9457 allows a relative reference, but an
# absolute one can be followed as it is, outside the request that produced it.
PROBLEM_PAGES_PATH = "/problems"


def problem_type_url(scope: Scope, code: ErrorCode) -> str:
    """`https://<host the client called>/problems/<code>`; relative when there is no request
    to take the host from (a head refused before it was parsed)."""
    path = f"{PROBLEM_PAGES_PATH}/{code.value}"
    if "headers" not in scope:
        return path
    # scheme and host only: a mounted app's root_path is not where the gateway's pages live
    base = ASGIConnection[Any, Any, Any, Any](scope).base_url
    return f"{base.scheme}://{base.netloc}{path}"


_log = get_logger("gateway.problems")


def request_id_of(scope: Scope) -> str:
    """The request's id; a request that matched no route never met the middleware: make one."""
    state: dict[str, Any] = scope.setdefault("state", {})
    if not isinstance(state.get("request_id"), str):
        state["request_id"] = request_id_for(scope)
    return str(state["request_id"])


def problem_body(
    code: ErrorCode, detail: str, *, scope: Scope, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type_url(scope, code),
        "title": problem_type_of(code).title,
        "status": HTTP_STATUS[code],
        "detail": str(detail),  # a Message (gateway.i18n) is its English text here
        "code": code.value,
        "instance": scope.get("path"),
        "request_id": request_id_of(scope),
    }
    # extension members never replace the standard ones (status stays the HTTP status)
    body.update({key: value for key, value in (extra or {}).items() if key not in body})
    # Only the parts that may echo input are scanned; ids are ours and sanitised on the way in.
    for member in ("detail", "errors", "instance"):
        if member in body:
            body[member] = redact_value(body[member])
    return body


def problem_response(
    code: ErrorCode,
    detail: str,
    *,
    scope: Scope,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    body = problem_body(code, detail, scope=scope, extra=extra)
    return Response(
        content=msgspec.json.encode(body),
        status_code=HTTP_STATUS[code],
        media_type=PROBLEM_MEDIA_TYPE,
        headers={**(headers or {}), "x-request-id": body["request_id"]},
    )


# An empty body where a JSON one is expected, as Litestar reports it.
_NO_BODY = [{"field": "data", "source": "body", "message": "'data'"}]
_EMPTY_BODY = "The request body is empty: send the JSON object this operation takes (see /schema)."
# msgspec's words for a number past what it reads (a 64-bit integer, a finite double), said
# where it cannot name the field ("$[...]": a value of a free-form object).
_OUT_OF_RANGE = re.compile(r"^(?:Number|Integer value) out of range - at `\$\.?([^`]*)`$")
_NUMBER_TOO_LARGE = (
    "out of range: whole numbers go up to 9223372036854775807 and decimals must be finite. "
    "Correct it and send the request again."
)


def _number_out_of_range(path: str) -> str:
    """The field when msgspec could name it ("payload.amount_minor")."""
    if not path or "[...]" in path:
        return f"A number in the request body is {_NUMBER_TOO_LARGE}"
    return f"{path}: the number is {_NUMBER_TOO_LARGE}"


def _validation_errors(exc: ValidationException) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            errors.append(
                {
                    "field": item.get("key"),
                    "source": item.get("source"),
                    "message": item.get("message"),
                }
            )
    return errors


def _is_unparsable_json(exc: HTTPException) -> bool:
    """Litestar wraps msgspec's DecodeError; a ValidationError is a DecodeError of valid JSON."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, msgspec.DecodeError):
            return not isinstance(cause, msgspec.ValidationError)
        cause = cause.__cause__
    return False


def _from_http_exception(exc: HTTPException) -> tuple[ErrorCode, str, dict[str, Any]]:
    if isinstance(exc, NotFoundException):
        return ErrorCode.NOT_FOUND, "No resource lives at this path; check it against /schema.", {}
    if isinstance(exc, MethodNotAllowedException):
        return ErrorCode.METHOD_NOT_ALLOWED, "This path does not accept this HTTP method.", {}
    if exc.status_code == 413:
        return ErrorCode.BODY_TOO_LARGE, "The request body is over the size limit; send less.", {}
    if _is_unparsable_json(exc):
        return (
            ErrorCode.MALFORMED_BODY,
            "The body is not valid JSON; check quotes, commas and braces.",
            {},
        )
    out_of_range = _OUT_OF_RANGE.match(str(exc.detail)) if exc.status_code == 400 else None
    if out_of_range:
        return ErrorCode.VALIDATION_FAILED, _number_out_of_range(out_of_range[1]), {}
    if isinstance(exc, ValidationException):
        message = str(exc.detail)
        errors = _validation_errors(exc)
        if errors == _NO_BODY:  # Litestar's words for it: the missing argument's name
            return ErrorCode.VALIDATION_FAILED, _EMPTY_BODY, {"errors": errors}
        detail = "; ".join(f"{e['field'] or e['source']}: {e['message']}" for e in errors)
        return ErrorCode.VALIDATION_FAILED, detail or message, {"errors": errors}
    by_status = {
        401: ErrorCode.UNAUTHENTICATED,
        403: ErrorCode.FORBIDDEN,
        429: ErrorCode.RATE_LIMITED,
        503: ErrorCode.SERVICE_UNAVAILABLE,
    }
    code = by_status.get(exc.status_code)
    if code is None:
        code = ErrorCode.VALIDATION_FAILED if exc.status_code < 500 else ErrorCode.INTERNAL_ERROR
    return code, str(exc.detail), {}


def exception_to_problem(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """The one place an exception becomes an HTTP answer."""
    if isinstance(exc, BillingError):
        return problem_response(
            exc.code, exc.detail, scope=request.scope, extra=exc.extra, headers=exc.headers
        )
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        code, detail, extra = _from_http_exception(exc)
        return problem_response(
            code, detail, scope=request.scope, extra=extra, headers=dict(exc.headers or {})
        )
    if is_database_outage(exc):  # not our bug, and over once PostgreSQL answers again
        _log.warning("database unreachable", path=request.scope.get("path"), error=repr(exc))
        outage = unavailable()
        return problem_response(
            outage.code, outage.detail, scope=request.scope, headers=outage.headers
        )
    if isinstance(exc, asyncpg.DataError):  # class 22: a value PostgreSQL refused (NUL, range)
        # a check is missing upstream: say where, but no traceback and no value (it is input)
        _log.warning(
            "value refused by the database",
            path=request.scope.get("path"),
            sqlstate=exc.sqlstate,
            where=where_raised(exc),
        )
        return problem_response(
            ErrorCode.VALIDATION_FAILED,
            "A value in the request is out of range or holds a character the database refuses "
            "(such as NUL); correct it and send the request again.",
            scope=request.scope,
        )
    # our bug: the innermost frames, bounded (a RecursionError has a thousand)
    _log.error(
        "unhandled error",
        path=request.scope.get("path"),
        error=type(exc).__name__,
        traceback=short_traceback(exc),
    )
    return problem_response(
        ErrorCode.INTERNAL_ERROR,
        "Something went wrong on our side; retry later and quote the request_id if it persists.",
        scope=request.scope,
    )
