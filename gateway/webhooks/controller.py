"""Provider events in, at `POST /v1/webhooks/<provider>` for each provider of the registry
(adapters/registry.py), with no API key (the provider signs instead) and no Idempotency-Key
(the event id dedupes). The provider's webhook (adapters/<provider>/provider.py) checks the
signature and reads the event: a forged, altered, stale or future-dated delivery is refused
before anything is stored; a genuine one is kept once and handed to a job."""

from __future__ import annotations

from inspect import Parameter, Signature
from typing import Annotated, Any

from litestar import Request, Router, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import HeaderParameter

from adapters.provider import Provider
from adapters.registry import PROVIDERS
from gateway.core.errors import BillingError, ErrorCode
from gateway.edge.auth import PUBLIC_OPT
from gateway.edge.body_guard import IDEMPOTENCY_OPT
from gateway.edge.json_depth import loads_within_depth
from gateway.edge.openapi import problems
from gateway.webhooks.inbox import keep
from settings import Settings


def _route(provider: Provider) -> HTTPRouteHandler:
    """The provider's route, its headers documented as parameters (read from the request)."""
    webhook = provider.webhook

    async def handler(
        request: Request[Any, Any, Any], settings: NamedDependency[Settings], **documented: Any
    ) -> dict[str, Any]:
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        webhook.verify(settings, body, headers, settings.webhook_tolerance_seconds)
        try:
            # The body guard refused a deep body already; parse as carefully here all the same.
            event = webhook.event(headers, loads_within_depth(body, settings.max_json_depth))
        except ValueError as error:
            detail = webhook.malformed.format(error=error)
            raise BillingError(ErrorCode.MALFORMED_BODY, detail) from None
        return webhook.answer(not await keep(event))

    parameters = [
        Parameter(
            f"header_{index}",
            Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[str | None, HeaderParameter(name=name, description=about)],
        )
        for index, (name, about) in enumerate(webhook.headers.items())
    ]
    fixed = list(Signature.from_callable(handler).parameters.values())[:2]
    handler.__signature__ = Signature(fixed + parameters)  # type: ignore[attr-defined]
    handler.__annotations__ = {
        **{parameter.name: parameter.annotation for parameter in parameters},
        "request": Request[Any, Any, Any],
        "settings": NamedDependency[Settings],
        "return": dict[str, Any],
    }
    handler.__name__ = f"receive_{provider.name}"
    return post(
        f"/{provider.name}",
        operation_id=webhook.operation_id,
        opt={PUBLIC_OPT: True, IDEMPOTENCY_OPT: False},
        status_code=200,
        responses=problems(
            400, 401, 413, 422, 503, codes=["webhook_signature_invalid", "webhook_not_configured"]
        ),
        summary=webhook.summary,
        description=webhook.description,
    )(handler)


def webhook_router() -> Router:
    """One route per registered provider, by name (read when the app is built)."""
    routes = [_route(provider) for _, provider in sorted(PROVIDERS.items())]
    return Router(path="/webhooks", route_handlers=routes, tags=["webhooks"])
