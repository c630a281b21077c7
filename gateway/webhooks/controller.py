"""POST /v1/webhooks/stripe: no API key (Stripe signs instead), no Idempotency-Key (the event id
dedupes). A forged, altered, stale or future-dated delivery is refused before anything is
stored; a genuine one is kept once and handed to a job."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter

from gateway.edge.auth import PUBLIC_OPT
from gateway.edge.body_guard import IDEMPOTENCY_OPT
from gateway.edge.json_depth import loads_within_depth
from gateway.edge.openapi import problems
from gateway.errors import BillingError, ErrorCode
from gateway.log import get_logger
from gateway.webhooks.inbox import record_event
from gateway.webhooks.stripe_signature import verify_stripe_signature
from settings import Settings

_log = get_logger("gateway.webhooks")


def stripe_secrets(settings: Settings) -> tuple[str, ...]:
    if settings.stripe_webhook_secrets:
        return settings.stripe_webhook_secrets
    if settings.sandbox and not settings.stripe_api_key:
        from adapters.stripe.emulator.state import WEBHOOK_SECRET

        return (WEBHOOK_SECRET,)
    return ()


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @post(
        "/stripe",
        opt={PUBLIC_OPT: True, IDEMPOTENCY_OPT: False},
        status_code=200,
        responses=problems(400, 401, 413, 422, 503),
        summary="Stripe events in (signed with Stripe-Signature)",
    )
    async def stripe_event(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        stripe_signature: Annotated[
            str | None,
            HeaderParameter(
                name="Stripe-Signature",
                description="t=<unix time>,v1=<HMAC-SHA256 hex> as Stripe sends it",
            ),
        ] = None,
    ) -> dict[str, Any]:
        secrets = stripe_secrets(settings)
        if not secrets:
            raise BillingError(
                ErrorCode.WEBHOOK_NOT_CONFIGURED,
                "No Stripe webhook secret is configured (BG_STRIPE_WEBHOOK_SECRETS).",
            )
        body = await request.body()
        verify_stripe_signature(
            body,
            stripe_signature,
            secrets,
            tolerance_seconds=settings.webhook_tolerance_seconds,
        )
        try:
            # The body guard refused a deep body already; parse as carefully here all the same.
            event = loads_within_depth(body, settings.max_json_depth)
            assert isinstance(event, dict) and event.get("object") == "event" and event.get("id")
        except (ValueError, AssertionError):
            raise BillingError(
                ErrorCode.MALFORMED_BODY, "A signed body that is not a Stripe event."
            ) from None
        row_id = await record_event("stripe", event)
        if row_id is not None:
            await _defer(row_id)
        return {"received": True, "duplicate": row_id is None}


async def _defer(row_id: Any) -> None:
    """Hand the event to a job; if the queue is unreachable, the minute sweep finds it."""
    from gateway.webhooks.jobs import process

    try:
        await process.defer_async(event_row_id=str(row_id))
    except Exception as error:
        _log.warning("webhook job not deferred; the sweep will process it", error=str(error))
