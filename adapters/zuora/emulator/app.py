"""The Zuora emulator as its own ASGI app: the SOAP endpoint of API version 84.0, and a control
endpoint for tests and demos (reset, expire sessions)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response, post

from adapters.zuora.emulator.soap import SoapFace
from adapters.zuora.emulator.state import Tenant

SOAP_PATH = "/apps/services/a/84.0"


def create_emulator(tenant: Tenant | None = None) -> Litestar:
    face = SoapFace(tenant or Tenant())

    @post(SOAP_PATH, status_code=200)
    async def soap(request: Request[Any, Any, Any]) -> Response[bytes]:
        status, body = face.handle(await request.body())
        return Response(body, status_code=status, media_type="text/xml; charset=utf-8")

    @post("/_emulator/expire-sessions", status_code=204)
    async def expire_sessions() -> None:
        face.tenant.expire_sessions()

    app = Litestar(route_handlers=[soap, expire_sessions], debug=False, logging_config=None)
    app.state.tenant = face.tenant
    return app
