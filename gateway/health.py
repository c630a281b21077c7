"""Liveness and readiness for orchestrators."""

from __future__ import annotations

from litestar import Controller, get
from msgspec import Struct

from gateway.db.connection import fetch_value
from gateway.edge.auth import PUBLIC_OPT
from gateway.edge.openapi import problems
from gateway.errors import BillingError, ErrorCode


class HealthStatus(Struct):
    status: str


class HealthController(Controller):
    path = "/health"
    tags = ["operations"]
    opt = {PUBLIC_OPT: True}

    @get("/live", summary="The process answers")
    async def live(self) -> HealthStatus:
        return HealthStatus(status="ok")

    @get("/ready", summary="The database answers", responses=problems(503))
    async def ready(self) -> HealthStatus:
        try:
            await fetch_value("SELECT 1")
        except Exception:
            raise BillingError(
                ErrorCode.SERVICE_UNAVAILABLE,
                "The database does not answer; the gateway cannot serve requests.",
                headers={"Retry-After": "5"},
            ) from None
        return HealthStatus(status="ready")
