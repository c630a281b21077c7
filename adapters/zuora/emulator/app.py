"""The Zuora emulator as its own ASGI app: the SOAP endpoint of API version 84.0, the REST API
(`/oauth/token`, `/v1/...`) over the same tenant, and control endpoints for tests and demos
(fault switches, expire sessions). Every fault switch acts on both faces."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from litestar import Litestar, Request, Response, post, route

from adapters.serving import fault_switches_handler
from adapters.zuora.emulator.rest import RestFace
from adapters.zuora.emulator.rest_shapes import Answer
from adapters.zuora.emulator.soap import SoapFace
from adapters.zuora.emulator.state import Faults, Tenant

SOAP_PATH = "/apps/services/a/84.0"


def create_emulator(tenant: Tenant | None = None) -> Litestar:
    face = SoapFace(tenant or Tenant())
    rest = RestFace(face.tenant)

    def faults() -> Faults:
        return face.tenant.faults  # read each time: tests swap in fresh switches

    @post(SOAP_PATH, status_code=200)
    async def soap(request: Request[Any, Any, Any]) -> Response[bytes]:
        if faults().latency_seconds:
            await asyncio.sleep(faults().latency_seconds)
        if faults().server_errors > 0:
            faults().server_errors -= 1
            return Response(b"Service Unavailable", status_code=503, media_type="text/plain")
        status, body, committed = face.handle(await request.body())
        if committed and faults().slow_after_commit > 0:
            # The change is made; the answer arrives after the client has given up on it.
            faults().slow_after_commit -= 1
            await asyncio.sleep(faults().slow_after_commit_seconds)
        return Response(body, status_code=status, media_type="text/xml; charset=utf-8")

    @post("/oauth/token", status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[bytes]:
        form = await request.form()
        return _response(rest.token({name: str(value) for name, value in form.items()}))

    @route("/v1/{rest_path:path}", http_method=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def rest_api(request: Request[Any, Any, Any]) -> Response[bytes]:
        if faults().latency_seconds:
            await asyncio.sleep(faults().latency_seconds)
        if faults().server_errors > 0:
            faults().server_errors -= 1
            return Response(b"Service Unavailable", status_code=503, media_type="text/plain")
        headers = {name.lower(): value for name, value in request.headers.items()}
        if faults().lock_competition > 0:
            faults().lock_competition -= 1
            answer = rest.lock_competition()
        else:
            answer = rest.handle(
                request.method,
                request.url.path,
                request.url.query or "",
                headers,
                await request.body(),
            )
        if answer.committed and faults().slow_after_commit > 0:
            faults().slow_after_commit -= 1
            await asyncio.sleep(faults().slow_after_commit_seconds)
        answer.headers["Zuora-Request-Id"] = secrets.token_hex(16)
        if "zuora-track-id" in headers:
            answer.headers["Zuora-Track-Id"] = headers["zuora-track-id"]
        return _response(answer)

    set_faults = fault_switches_handler(faults)

    @post("/_emulator/expire-sessions", status_code=204)
    async def expire_sessions() -> None:
        face.tenant.expire_sessions()

    app = Litestar(
        route_handlers=[soap, token, rest_api, expire_sessions, set_faults],
        debug=False,
        logging_config=None,
    )
    app.state.tenant = face.tenant
    app.state.rest = rest
    app.state.soap = face
    return app


def _response(answer: Answer) -> Response[bytes]:
    return Response(
        answer.body,
        status_code=answer.status,
        media_type=answer.media_type,
        headers=answer.headers,
    )
