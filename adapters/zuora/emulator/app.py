"""The Zuora emulator as its own ASGI app: the SOAP endpoint of API version 84.0, and a control
endpoint for tests and demos (fault switches, expire sessions)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Litestar, Request, Response, post
from litestar.exceptions import ValidationException
from litestar.params import JSONBody

from adapters.zuora.emulator.soap import SoapFace
from adapters.zuora.emulator.state import Tenant

SOAP_PATH = "/apps/services/a/84.0"


def create_emulator(tenant: Tenant | None = None) -> Litestar:
    face = SoapFace(tenant or Tenant())

    faults = face.tenant.faults

    @post(SOAP_PATH, status_code=200)
    async def soap(request: Request[Any, Any, Any]) -> Response[bytes]:
        if faults.latency_seconds:
            await asyncio.sleep(faults.latency_seconds)
        if faults.server_errors > 0:
            faults.server_errors -= 1
            return Response(b"Service Unavailable", status_code=503, media_type="text/plain")
        status, body, committed = face.handle(await request.body())
        if committed and faults.slow_after_commit > 0:
            # The change is made; the answer arrives after the client has given up on it.
            faults.slow_after_commit -= 1
            await asyncio.sleep(faults.slow_after_commit_seconds)
        return Response(body, status_code=status, media_type="text/xml; charset=utf-8")

    @post("/_emulator/faults", status_code=204)
    async def set_faults(data: JSONBody[dict[str, float]]) -> None:
        for name, value in data.items():
            if not hasattr(faults, name):
                raise ValidationException(f"unknown fault switch {name!r}")
            setattr(faults, name, type(getattr(faults, name))(value))

    @post("/_emulator/expire-sessions", status_code=204)
    async def expire_sessions() -> None:
        face.tenant.expire_sessions()

    app = Litestar(
        route_handlers=[soap, expire_sessions, set_faults], debug=False, logging_config=None
    )
    app.state.tenant = face.tenant
    return app
