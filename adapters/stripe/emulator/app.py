"""The Stripe emulator as its own ASGI app: Stripe's `/v1` API over one account, and control
endpoints for tests and demos under `/_emulator/` (no Stripe key; loopback only):

- `POST /_emulator/faults` — switches that change nothing in the account (latency, the next N
  answers 500 or 429, an answer lost after a commit) and `rate_limit_per_second` (above it,
  429 `rate_limit`; 0 turns it off);
- `POST /_emulator/operation-faults` `{"operation": "POST /v1/customers/*", "mode": "fail" |
  "slow" | "lost_after_commit", "times": 1, "seconds": 5}` (optional `status`, `code` for
  `fail`), `GET` lists them, `DELETE` clears them all;
- `POST /_emulator/debit-in-flight` `{"account": "cus_...", "amount_minor": 4900, "currency":
  "EUR"}` starts a SEPA debit (`processing` PaymentIntent); `DELETE` (optionally
  `?account=cus_...`) settles it;
- `POST /_emulator/payouts/{id}/fail`, `POST /_emulator/webhooks`;
- the document links of invoices and charges (see `files.py`).
- read-only pages of a customer and a Connect account, at the dashboard's paths
  (`/test/customers/<id>`, `/test/connect/accounts/<id>`: see `state_page.py`).

Started by `billing-gateway run`, the account lives in a state file (see `persistence.py`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar, Response, asgi, delete, get, post
from litestar.exceptions import ValidationException
from litestar.params import JSONBody
from litestar.types import Receive, Scope, Send

from adapters.serving import fault_switches_handler
from adapters.stripe.emulator import persistence
from adapters.stripe.emulator.face import Answer, StripeFace, dumps
from adapters.stripe.emulator.files import document_handlers
from adapters.stripe.emulator.invoicing import with_origin
from adapters.stripe.emulator.signing import sign
from adapters.stripe.emulator.state import (
    Faults,
    OperationFault,
    StripeAccount,
    StripeError,
    public,
)
from adapters.stripe.emulator.state_page import state_page_handlers

MODES = ("fail", "slow", "lost_after_commit")


def _response(answer: Answer) -> Response[bytes]:
    return Response(
        dumps(answer.body),
        status_code=answer.status,
        media_type="application/json",
        headers=answer.headers,
    )


async def _deliver(
    events: list[dict[str, Any]], endpoints: list[tuple[str, str]], origin: str
) -> None:
    """Send events to every endpoint in order, signed as Stripe signs them; retry a few times
    when the endpoint is down or answers 5xx, as Stripe does (over days, there)."""
    async with httpx.AsyncClient(timeout=10) as client:
        for event in events:
            payload = dumps(with_origin(public(event), origin))
            for url, secret in endpoints:
                for attempt in range(4):
                    try:
                        answer = await client.post(
                            url,
                            content=payload,
                            headers={
                                "Content-Type": "application/json; charset=utf-8",
                                "Stripe-Signature": sign(payload, secret),
                                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                            },
                        )
                        if answer.status_code < 500:
                            break
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(0.2 * 2**attempt)


class RateWindow:
    """Requests accepted in the last second, for `rate_limit_per_second`."""

    def __init__(self) -> None:
        self._accepted: deque[float] = deque()

    def refuses(self, limit: float) -> bool:
        if limit <= 0:
            return False
        now = time.monotonic()
        while self._accepted and now - self._accepted[0] >= 1.0:
            self._accepted.popleft()
        if len(self._accepted) >= limit:
            return True
        self._accepted.append(now)
        return False


def _take(switches: Faults, operation: str) -> OperationFault | None:
    fault = switches._operations.get(operation)
    if fault is None:
        return None
    fault.times -= 1
    if fault.times <= 0:
        del switches._operations[operation]
    return fault


def _failure(fault: OperationFault, operation: str) -> StripeError:
    kind = "api_error" if fault.status >= 500 else "invalid_request_error"
    return StripeError(
        fault.status,
        f"The emulator failed {operation} (an operation fault); nothing was changed.",
        type=kind,
        code=fault.code,
    )


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _send(send: Send, answer: Answer) -> None:
    body = dumps(answer.body)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in answer.headers.items()),
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _drop(send: Send) -> None:
    """Start an answer and never finish it: the server closes the connection, and the client
    sees it cut mid-answer, as when a network path fails after Stripe committed."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"1024")],
        }
    )


def create_stripe_emulator(
    account: StripeAccount | None = None,
    *,
    state_file: Path | None = None,
    seed: Callable[[StripeAccount], None] | None = None,
) -> Litestar:
    """The emulator over `account`. With `state_file` (the sandbox), the account is loaded from
    it when it exists (else `seed` fills it) and saved after every write."""
    face = StripeFace(account or StripeAccount())
    if state_file is not None:
        saved = persistence.load(face.account, state_file)
        if saved is not None:
            face.restore_replays(saved)
        else:
            if seed is not None:
                seed(face.account)
            persistence.save(face.account, {}, state_file)
    elif seed is not None:
        seed(face.account)
    deliveries: set[asyncio.Task[None]] = set()  # kept so that they are not collected early
    window = RateWindow()

    def persist() -> None:
        if state_file is not None:
            persistence.save(face.account, face.saved_replays(), state_file)

    def send_events(events: list[dict[str, Any]]) -> None:
        if events and face.account.webhook_endpoints:
            endpoints = list(face.account.webhook_endpoints)
            task = asyncio.create_task(_deliver(list(events), endpoints, face.origin))
            deliveries.add(task)
            task.add_done_callback(deliveries.discard)

    def faults() -> Faults:
        return face.account.faults  # read each time: tests swap in fresh switches

    async def answer_api(
        method: str, path: str, scope: Scope, receive: Receive
    ) -> tuple[Answer, OperationFault | None]:
        switches = faults()
        if switches.latency_seconds:
            await asyncio.sleep(switches.latency_seconds)
        if window.refuses(switches.rate_limit_per_second):
            limited = StripeError(
                429,
                "Too many requests hit the API too quickly. We recommend an exponential "
                "backoff of your requests.",
                code="rate_limit",
            )
            return Answer(429, {"error": limited.body}), None
        for name, status, kind in (
            ("server_errors", 500, "api_error"),
            ("rate_limited", 429, "invalid_request_error"),
        ):
            if getattr(switches, name) > 0:
                setattr(switches, name, getattr(switches, name) - 1)
                code = "rate_limit" if status == 429 else None
                error = StripeError(
                    status, "The emulator refused this request.", type=kind, code=code
                )
                return Answer(status, {"error": error.body}), None
        headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
        body = await _body(receive)
        operation = face.operation_of(method, path)
        fault = _take(switches, operation)
        if fault is not None and fault.mode == "slow":
            await asyncio.sleep(fault.seconds)
        failure = _failure(fault, operation) if fault and fault.mode == "fail" else None
        emitted = len(face.account.events)
        query = scope.get("query_string", b"").decode()
        answer = face.handle(method, path, query, headers, body, failure)
        send_events(face.account.events[emitted:])
        if answer.committed:
            persist()
        return answer, fault

    @asgi("/v1", is_mount=True, copy_scope=True)
    async def api(scope: Scope, receive: Receive, send: Send) -> None:
        method = str(scope.get("method") or "GET")
        path = "/v1" + scope["path"].rstrip("/")  # the mount took its own prefix off
        answer, fault = await answer_api(method, path, scope, receive)
        if fault is not None and fault.mode == "lost_after_commit" and answer.committed:
            await asyncio.sleep(fault.seconds)
            await _drop(send)
            return
        switches = faults()
        if answer.committed and switches.slow_after_commit > 0:
            switches.slow_after_commit -= 1
            await asyncio.sleep(switches.slow_after_commit_seconds)
        await _send(send, answer)

    set_faults = fault_switches_handler(faults)

    @post("/_emulator/operation-faults", status_code=204)
    async def set_operation_fault(data: JSONBody[dict[str, Any]]) -> None:
        """A fault on one operation, named by method and path with ids as `*`."""
        operation, mode = str(data.get("operation") or ""), data.get("mode")
        if operation not in face.operations():
            known = ", ".join(sorted(face.operations()))
            raise ValidationException(f"unknown operation {operation!r}; known: {known}")
        if mode not in MODES:
            raise ValidationException(f"mode must be one of {', '.join(MODES)}")
        try:
            fault = OperationFault(
                mode=mode,
                times=max(1, int(data.get("times", 1))),
                seconds=float(data.get("seconds", 0.0)),
                status=int(data.get("status", 400)),
                code=data.get("code"),
            )
        except (TypeError, ValueError) as unreadable:
            raise ValidationException(str(unreadable)) from None
        faults()._operations[operation] = fault

    @get("/_emulator/operation-faults")
    async def list_operation_faults() -> dict[str, Any]:
        return {
            operation: {"mode": f.mode, "times": f.times, "seconds": f.seconds}
            for operation, f in faults()._operations.items()
        }

    @delete("/_emulator/operation-faults", status_code=204)
    async def clear_operation_faults() -> None:
        faults()._operations.clear()

    @post("/_emulator/debit-in-flight", status_code=201)
    async def start_debit(data: JSONBody[dict[str, Any]]) -> Response[bytes]:
        """A SEPA debit the customer's bank has not answered yet (PaymentIntent `processing`)."""
        try:
            intent = face.billing.start_debit(
                str(data.get("account") or ""),
                int(data.get("amount_minor", 4900)),
                str(data.get("currency") or "EUR"),
            )
        except StripeError as refused:
            return _response(Answer(refused.status, {"error": refused.body}))
        except (TypeError, ValueError) as unreadable:
            raise ValidationException(str(unreadable)) from None
        persist()
        return _response(Answer(201, public(intent)))

    @delete("/_emulator/debit-in-flight", status_code=200)
    async def settle_debit(account: str | None = None) -> dict[str, Any]:
        """The bank answered: the debits in flight (of `account`, or all) succeed."""
        settled = face.billing.settle_debits(account)
        persist()
        return {"settled": [intent["id"] for intent in settled]}

    @post("/_emulator/payouts/{payout_id:str}/fail", status_code=204)
    async def fail_payout(payout_id: str) -> None:
        """The partner's bank sends a payout back (a closed account): payout.failed follows."""
        emitted = len(face.account.events)
        face.connect.fail_payout(payout_id)
        persist()
        send_events(face.account.events[emitted:])

    @post("/_emulator/webhooks", status_code=204)
    async def set_webhook_endpoint(data: JSONBody[dict[str, str]]) -> None:
        """Where to send events, and the secret to sign them with (Stripe's dashboard)."""
        face.account.webhook_endpoints.append((data["url"], data["secret"]))

    app = Litestar(
        route_handlers=[
            api,
            set_faults,
            set_operation_fault,
            list_operation_faults,
            clear_operation_faults,
            start_debit,
            settle_debit,
            set_webhook_endpoint,
            fail_payout,
            *document_handlers(face),
            *state_page_handlers(lambda: face.account),
        ],
        debug=False,
        logging_config=None,
    )
    app.state.face = face
    app.state.account = face.account
    return app
