"""The Stripe emulator as its own ASGI app: Stripe's `/v1` API over one in-memory account, and
`/_emulator/faults` for tests and demos. Every fault switch changes nothing in the account."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Litestar, Request, Response, post, route
from litestar.exceptions import ValidationException
from litestar.params import JSONBody

from adapters.stripe.emulator.face import Answer, StripeFace, dumps
from adapters.stripe.emulator.state import Faults, StripeAccount, StripeError


def _response(answer: Answer) -> Response[bytes]:
    return Response(
        dumps(answer.body),
        status_code=answer.status,
        media_type="application/json",
        headers=answer.headers,
    )


def create_stripe_emulator(account: StripeAccount | None = None) -> Litestar:
    face = StripeFace(account or StripeAccount())

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
        answer = face.handle(
            request.method,
            request.url.path,
            request.url.query or "",
            headers,
            await request.body(),
        )
        if answer.committed and switches.slow_after_commit > 0:
            switches.slow_after_commit -= 1
            await asyncio.sleep(switches.slow_after_commit_seconds)
        return _response(answer)

    @post("/_emulator/faults", status_code=204)
    async def set_faults(data: JSONBody[dict[str, float]]) -> None:
        switches = faults()
        for name, value in data.items():
            if not hasattr(switches, name):
                raise ValidationException(f"unknown fault switch {name!r}")
            setattr(switches, name, type(getattr(switches, name))(value))

    app = Litestar(route_handlers=[api, set_faults], debug=False, logging_config=None)
    app.state.face = face
    app.state.account = face.account
    return app
