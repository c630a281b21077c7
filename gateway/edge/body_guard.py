"""For every POST: bounded body, no card numbers, and the `Idempotency-Key` protocol.

Runs after authentication (keys are scoped per API key) and before the handler, so a refused
body is never parsed, stored or logged.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from gateway.core.db.outage import is_database_outage
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import (
    ascii_digits_in,
    contains_card_number,
    sensitive_kind_of_token,
    strings_in,
)
from gateway.edge.auth import client_of
from gateway.edge.json_depth import DEFAULT_MAX_DEPTH, refuse_deep_json
from gateway.edge.unavailable import send_unavailable
from gateway.idempotency import service as idempotency
from gateway.idempotency.context import FreshClaim, IdempotencyContext, remember
from gateway.idempotency.finishing import pending as pending_touches

IDEMPOTENCY_OPT = "idempotent"  # route opt; False for POSTs that dedupe otherwise (webhooks)
# IDEMPOTENCY_OPT's value for a route whose service claims the key in the statement that makes
# its change (context.FreshClaim): no claim of its own first, a round trip fewer. Its service
# must store every answer it makes a change for; the guard stores its refusals.
CLAIMED_BY_SERVICE = "claimed_by_service"
BODY_LIMIT_OPT = "max_body_bytes"  # route opt: a larger limit for bulk uploads
_KEY_SHAPE = re.compile(r"^[\x21-\x7e]{1,255}$")
# Failures that happen before the endpoint starts working leave no result to replay.
_NOT_STORED = {
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.MALFORMED_BODY,
    ErrorCode.BODY_TOO_LARGE,
    ErrorCode.RATE_LIMITED,
    ErrorCode.UNAUTHENTICATED,
    ErrorCode.FORBIDDEN,
    ErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS,
}
_NOT_JSON: Any = object()
_OTHER_BODY_METHODS = {"DELETE", "PUT", "PATCH"}
_MIN_CARD_DIGITS = 13
_EXPONENT = re.compile(rb"[0-9.][eE]")


async def read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message: Any = await receive()
        if message["type"] == "http.disconnect":
            raise BillingError(ErrorCode.MALFORMED_BODY, "The client went away mid-request.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BillingError(
                ErrorCode.BODY_TOO_LARGE,
                f"The request body is over the {limit}-byte limit; send less.",
            )
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _decode_json(body: bytes, max_depth: int) -> Any:
    """The body parsed once, for both the card scan and the fingerprint; _NOT_JSON if it isn't.
    Too deep is refused first: the parser and every walk over its result recurse per level."""
    refuse_deep_json(body, max_depth)
    try:  # json.loads, without building a decoder per request
        return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except ValueError:
        return _NOT_JSON


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A key given twice would hide its first value from every check (the parser keeps the
    last): refused, since no client of ours means two values by one name."""
    built = dict(pairs)
    if len(built) != len(pairs):
        raise BillingError(
            ErrorCode.MALFORMED_BODY,
            "The JSON body names a field twice in one object; send each field once.",
        )
    return built


def _under_a_card_of_digits(body: bytes) -> bool:
    """Plain ASCII without escapes or exponents ("4e15" is written with 2 digits and read
    with 16), and fewer than 13 digits in all: no string or number in it can hold a card
    number (most bodies: an IP, an email, a fingerprint). Not UTF-16 or UTF-32 (a NUL byte:
    JSON's own punctuation has one there), which `_decode_json` reads too: "٤" is the ASCII
    bytes 64 06 in UTF-16-LE."""
    return (
        body.isascii()
        and b"\x00" not in body
        and b"\\" not in body
        and ascii_digits_in(body) < _MIN_CARD_DIGITS
        and not _EXPONENT.search(body)
    )


def _holds_card_number(body: bytes, parsed: Any) -> bool:
    """A JSON body is scanned string by string (and number by number) once parsed: escapes
    such as \\u0034 would hide digits from a scan of the raw bytes, and a raw \\t would join
    an IBAN's digits to the letter t. Anything else is scanned as text."""
    if _under_a_card_of_digits(body):
        return False
    if parsed is _NOT_JSON:
        return contains_card_number(body.decode("utf-8", "replace"))
    return any(contains_card_number(text) for text in strings_in(parsed, numbers=True))


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)


def fingerprint(method: str, path: str, body: bytes, parsed: Any) -> str:
    # the same JSON with other spacing or key order is the same request
    canonical = (
        body
        if parsed is _NOT_JSON
        else json.dumps(parsed, sort_keys=True, separators=(",", ":")).encode()
    )
    return hashlib.sha256(method.encode() + b"\0" + path.encode() + b"\0" + canonical).hexdigest()


def _idempotency_key(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"idempotency-key":
            key = value.decode("latin-1")
            if not _KEY_SHAPE.match(key):
                raise BillingError(
                    ErrorCode.IDEMPOTENCY_KEY_INVALID,
                    "The Idempotency-Key header must be 1 to 255 printable characters without "
                    "spaces; a UUID is a good choice.",
                )
            # The key is stored and logged as given: no card number or IBAN, in any spelling.
            found = sensitive_kind_of_token(key)
            if found == "card_number":
                raise BillingError(
                    ErrorCode.CARD_NUMBER_NOT_ACCEPTED,
                    "The Idempotency-Key header looks like a card number, which the gateway "
                    "never accepts; send a new UUID as the key.",
                )
            if found == "iban":
                raise BillingError(
                    ErrorCode.IBAN_OUTSIDE_IBAN_FIELD,
                    "The Idempotency-Key header holds an IBAN, which is kept only encrypted in "
                    "payload.iban; send a new UUID as the key.",
                )
            return key
    raise BillingError(
        ErrorCode.IDEMPOTENCY_KEY_MISSING,
        "Every POST needs an Idempotency-Key header (a UUID per intended action) so that a "
        "retry never acts twice.",
    )


def _problem_code(content_type: str, body: bytes) -> str | None:
    if not content_type.startswith("application/problem+json"):
        return None
    try:
        code: Any = json.loads(body).get("code")
    except ValueError:
        return None
    return code if isinstance(code, str) else None


def _card_number_refused() -> BillingError:
    return BillingError(
        ErrorCode.CARD_NUMBER_NOT_ACCEPTED,
        "The request holds what looks like a card number. The gateway never accepts "
        "card numbers: remove it and refer to cards by the provider's fingerprint.",
    )


class BodyGuardMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, max_body_bytes: int, max_json_depth: int = DEFAULT_MAX_DEPTH) -> None:
        self._limit = max_body_bytes
        self._max_depth = max_json_depth

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("method") != "POST":
            if scope.get("method") in _OTHER_BODY_METHODS:  # e.g. DELETE with a JSON reason
                body = await read_body(receive, self._limit)
                if _holds_card_number(body, _decode_json(body, self._max_depth)):
                    raise _card_number_refused()
                receive = replaying(body, receive)
            await next_app(scope, receive, send)
            return
        body = await read_body(receive, scope["route_handler"].opt.get(BODY_LIMIT_OPT, self._limit))
        parsed = _decode_json(body, self._max_depth)
        if _holds_card_number(body, parsed):
            raise _card_number_refused()
        # Read and capped here already: Litestar's Request.body() takes it as it is.
        ScopeState.from_scope(scope).body = body
        idempotent = scope["route_handler"].opt.get(IDEMPOTENCY_OPT, True)
        if idempotent is False:
            await next_app(scope, replaying(body, receive), send)
            return
        request_fingerprint = fingerprint("POST", scope["path"], body, parsed)
        if idempotent == CLAIMED_BY_SERVICE:
            await self._claimed_by_service(
                scope, request_fingerprint, body, receive, send, next_app
            )
            return
        await self._once(scope, request_fingerprint, replaying(body, receive), send, next_app)

    async def _claimed_by_service(
        self,
        scope: Scope,
        request_fingerprint: str,
        body: bytes,
        receive: Receive,
        send: Send,
        next_app: ASGIApp,
    ) -> None:
        """The key is claimed by the service's own statement, with its answer. A key seen
        before fails that statement and changes nothing; then, and for every answer no
        statement stored (a refusal, a failure), the key decides as it does for `_once`: the
        earlier answer replayed, a reuse or a request in progress refused, or this answer
        kept under the key."""
        key = _idempotency_key(scope)
        client = client_of(scope)
        await pending_touches.settle(client.id, key)
        fresh = FreshClaim(request_fingerprint, "POST", scope["path"])
        context = IdempotencyContext(key, recovering=False, fresh=fresh)
        remember(scope, context)
        held: list[Any] = []
        await next_app(scope, replaying(body, receive), _hold(held))
        if fresh.taken:  # held already: nothing was changed, so answered as a claimed key is
            ScopeState.from_scope(scope).response_started = False  # the held start never went
            await self._once(scope, request_fingerprint, replaying(body, receive), send, next_app)
            return
        status, content_type, response_body = _answer(held)
        if context.stored.is_exactly(status, content_type, response_body):
            await _send_all(send, held)  # filed: the statement claimed the key with this answer
            return
        # A service that refuses claims the key first, so that only the attempt holding it
        # audits its refusal (`answers.claim_before_refusing`); any other answer claims it now.
        outcome: idempotency.Outcome | None = fresh.claimed
        if outcome is None:
            try:
                outcome = await idempotency.claim(
                    client.id, key, request_fingerprint, "POST", scope["path"]
                )
            except Exception as error:
                if not is_database_outage(error):
                    raise
                await _send_all(send, held)  # nothing was changed or kept: a retry starts afresh
                return
        if await _answered_as_held(send, outcome):
            return
        assert isinstance(outcome, idempotency.Claimed)
        await _finish(scope, send, held, outcome, client.id, key, context)

    async def _once(
        self,
        scope: Scope,
        request_fingerprint: str,
        receive: Receive,
        send: Send,
        next_app: ASGIApp,
    ) -> None:
        key = _idempotency_key(scope)
        client = client_of(scope)
        path = scope["path"]
        await pending_touches.settle(client.id, key)  # a dict look-up unless an outage left one
        outcome = await idempotency.claim(client.id, key, request_fingerprint, "POST", path)
        if await _answered_as_held(send, outcome):
            return
        assert isinstance(outcome, idempotency.Claimed)
        context = IdempotencyContext(key, recovering=outcome.recovered)
        remember(scope, context)
        # The response is held back until it is stored, so that a client retrying the moment
        # it hears back gets the replay, never a 409.
        held: list[Any] = []
        try:
            await next_app(scope, receive, _hold(held))
        except BaseException:
            await pending_touches.apply(
                client.id, key, functools.partial(idempotency.abandon, outcome)
            )
            raise
        await _finish(scope, send, held, outcome, client.id, key, context)


async def _answered_as_held(send: Send, outcome: idempotency.Outcome) -> bool:
    """A key held already: its stored answer replayed (True), or the request refused (a reuse
    with another body, a request still in progress); False for a claim this request holds."""
    if isinstance(outcome, idempotency.Mismatch):
        raise BillingError(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This Idempotency-Key was already used with a different request; use a new key "
            "for a new action.",
        )
    if isinstance(outcome, idempotency.InProgress):
        raise BillingError(
            ErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS,
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            headers={"Retry-After": "1"},
        )
    if isinstance(outcome, idempotency.Replay):
        await _send_replay(send, outcome)
        return True
    return False


async def _finish(
    scope: Scope,
    send: Send,
    held: list[Any],
    claim: idempotency.Claimed,
    api_key_id: Any,
    key: str,
    context: IdempotencyContext,
) -> None:
    """The last touch on a claim this request holds, then its answer: kept under the key, or
    the key let go (a failure: taken over by the retry; a refusal that changed nothing: free)."""
    status, content_type, response_body = _answer(held)
    # Each last touch on the claim survives a database outage (kept and retried until
    # PostgreSQL answers), so that the key is free for a retry within seconds of recovery.
    touch = functools.partial(pending_touches.apply, api_key_id, key)
    if status >= 500:
        await touch(functools.partial(idempotency.abandon, claim))
    elif _problem_code(content_type, response_body) in _NOT_STORED:
        await touch(functools.partial(idempotency.release, claim))
    elif context.stored.is_exactly(status, content_type, response_body):
        pass  # the service stored this answer in the transaction of its change
    elif not await touch(
        functools.partial(idempotency.complete, claim, status, content_type, response_body)
    ):
        # Done, but not stored: a 503 (not an answer a retry could not replay). The retry
        # gets the stored answer, or resumes from the service's recovery point.
        await send_unavailable(scope, send)
        return
    await _send_all(send, held)


def _answer(held: list[Any]) -> tuple[int, str, bytes]:
    """The status, content type and body of a response held back."""
    start = held[0]
    content_type = MutableScopeHeaders.from_message(start).get("content-type", "")
    return start["status"], content_type, b"".join(m.get("body", b"") for m in held[1:])


async def _send_all(send: Send, held: list[Any]) -> None:
    for message in held:
        await send(message)


def _hold(held: list[Any]) -> Send:
    async def hold(message: Message) -> None:
        held.append(message)

    return hold


def replaying(body: bytes, receive: Receive) -> Receive:
    """Hands the app below the body already read, then whatever the client sends next (a
    disconnect)."""
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send_replay(send: Send, replay: idempotency.Replay) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": replay.status,
            "headers": [
                (b"content-type", replay.content_type.encode("latin-1")),
                (b"content-length", str(len(replay.body)).encode()),
                (b"idempotent-replayed", b"true"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": replay.body, "more_body": False})
