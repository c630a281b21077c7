"""The Stripe emulator as its own ASGI app: Stripe's `/v1` API over one in-memory account, and
`/_emulator/faults` for tests and demos. Every fault switch changes nothing in the account."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from litestar import Litestar, Request, Response, post, route
from litestar.params import JSONBody

from adapters.serving import fault_switches_handler
from adapters.stripe.emulator.face import Answer, StripeFace, dumps
from adapters.stripe.emulator.signing import sign
from adapters.stripe.emulator.state import Faults, StripeAccount, StripeError, public


def _response(answer: Answer) -> Response[bytes]:
    return Response(
        dumps(answer.body),
        status_code=answer.status,
        media_type="application/json",
        headers=answer.headers,
    )


async def _deliver(events: list[dict[str, Any]], endpoints: list[tuple[str, str]]) -> None:
    """Send events to every endpoint in order, signed as Stripe signs them; retry a few times
    when the endpoint is down or answers 5xx, as Stripe does (over days, there)."""
    async with httpx.AsyncClient(timeout=10) as client:
        for event in events:
            payload = dumps(public(event))
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


def create_stripe_emulator(account: StripeAccount | None = None) -> Litestar:
    face = StripeFace(account or StripeAccount())
    deliveries: set[asyncio.Task[None]] = set()  # kept so that they are not collected early

    def send(events: list[dict[str, Any]]) -> None:
        if events and face.account.webhook_endpoints:
            task = asyncio.create_task(_deliver(list(events), list(face.account.webhook_endpoints)))
            deliveries.add(task)
            task.add_done_callback(deliveries.discard)

    def faults() -> Faults:
        return face.account.faults  # read each time: tests swap in fresh switches

    @route("/v1/{rest:path}", http_method=["GET", "POST", "DELETE"])
    async def api(request: Request[Any, Any, Any]) -> Response[bytes]:
        switches = faults()
        if switches.latency_seconds:
            await asyncio.sleep(switches.latency_seconds)
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
                return _response(Answer(status, {"error": error.body}))
        headers = {name.lower(): value for name, value in request.headers.items()}
        emitted = len(face.account.events)
        answer = face.handle(
            request.method,
            request.url.path,
            request.url.query or "",
            headers,
            await request.body(),
        )
        send(face.account.events[emitted:])
        if answer.committed and switches.slow_after_commit > 0:
            switches.slow_after_commit -= 1
            await asyncio.sleep(switches.slow_after_commit_seconds)
        return _response(answer)

    set_faults = fault_switches_handler(faults)

    @post("/_emulator/payouts/{payout_id:str}/fail", status_code=204)
    async def fail_payout(payout_id: str) -> None:
        """The partner's bank sends a payout back (a closed account): payout.failed follows."""
        emitted = len(face.account.events)
        face.connect.fail_payout(payout_id)
        send(face.account.events[emitted:])

    @post("/_emulator/webhooks", status_code=204)
    async def set_webhook_endpoint(data: JSONBody[dict[str, str]]) -> None:
        """Where to send events, and the secret to sign them with (Stripe's dashboard)."""
        face.account.webhook_endpoints.append((data["url"], data["secret"]))

    app = Litestar(
        route_handlers=[api, set_faults, set_webhook_endpoint, fail_payout],
        debug=False,
        logging_config=None,
    )
    app.state.face = face
    app.state.account = face.account
    return app
