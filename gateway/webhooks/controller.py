"""Provider events in, with no API key (the provider signs instead) and no Idempotency-Key (the
event id dedupes): `POST /v1/webhooks/stripe` (Stripe-Signature) and `POST /v1/webhooks/zuora`
(Basic auth + HMAC over timestamp and body, adapters/zuora/callouts.py). A forged, altered,
stale or future-dated delivery is refused before anything is stored; a genuine one is kept
once and handed to a job."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter

from adapters.stripe.signature import stripe_event, verify_stripe_signature
from adapters.zuora.callouts import (
    NOTIFICATION_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    CalloutAuth,
    callout_event,
    verify_callout,
)
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.log import get_logger
from gateway.edge.auth import PUBLIC_OPT
from gateway.edge.body_guard import IDEMPOTENCY_OPT
from gateway.edge.json_depth import loads_within_depth
from gateway.edge.openapi import problems
from gateway.webhooks.inbox import record_event
from settings import Settings

_log = get_logger("gateway.webhooks")


def stripe_secrets(settings: Settings) -> tuple[str, ...]:
    if settings.stripe_webhook_secrets:
        return settings.stripe_webhook_secrets
    if settings.sandbox and not settings.stripe_api_key:
        from adapters.stripe.emulator.state import WEBHOOK_SECRET

        return (WEBHOOK_SECRET,)
    return ()


def zuora_callout_auth(settings: Settings) -> CalloutAuth | None:
    """The configured callout user and secrets; in sandbox with the emulator, its own."""
    username, password = settings.zuora_callout_username, settings.zuora_callout_password
    secrets = settings.zuora_callout_secrets
    emulated = settings.sandbox and not (settings.zuora_soap_url or settings.zuora_rest_url)
    if emulated:
        from adapters.zuora.emulator import callouts as emulator

        username = username or emulator.CALLOUT_USERNAME
        password = password or emulator.CALLOUT_PASSWORD
        secrets = secrets or (emulator.CALLOUT_SECRET,)
    if not (username and password and secrets):
        return None
    return CalloutAuth(username, password, tuple(secrets))


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @post(
        "/stripe",
        operation_id="receiveStripeEvent",
        opt={PUBLIC_OPT: True, IDEMPOTENCY_OPT: False},
        status_code=200,
        responses=problems(
            400, 401, 413, 422, 503, codes=["webhook_signature_invalid", "webhook_not_configured"]
        ),
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
        row_id = await record_event(stripe_event(event))
        if row_id is not None:
            await _defer(row_id)
        return {"received": True, "duplicate": row_id is None}

    @post(
        "/zuora",
        operation_id="receiveZuoraCallout",
        opt={PUBLIC_OPT: True, IDEMPOTENCY_OPT: False},
        status_code=200,
        responses=problems(
            400, 401, 413, 422, 503, codes=["webhook_signature_invalid", "webhook_not_configured"]
        ),
        summary="Zuora callouts in (Basic auth and X-Callout-Signature)",
        description=(
            "Authorization: Basic (BG_ZUORA_CALLOUT_USERNAME/PASSWORD); X-Callout-Timestamp: "
            "unix seconds; X-Callout-Signature: v1=<hex HMAC-SHA256(secret, timestamp + '.' + "
            "raw body)>; Zuora-Notification-Id: the event's id (a repeat is answered, not "
            'kept twice). Answers {"success": true} at once; a job re-reads the object.'
        ),
    )
    async def zuora_callout(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        notification_id: Annotated[
            str | None,
            HeaderParameter(name=NOTIFICATION_ID_HEADER, description="the event's id"),
        ] = None,
        callout_timestamp: Annotated[
            str | None, HeaderParameter(name=TIMESTAMP_HEADER, description="unix seconds")
        ] = None,
        callout_signature: Annotated[
            str | None,
            HeaderParameter(name=SIGNATURE_HEADER, description="v1=<HMAC-SHA256 hex>[,v1=...]"),
        ] = None,
    ) -> dict[str, Any]:
        auth = zuora_callout_auth(settings)
        if auth is None:
            raise BillingError(
                ErrorCode.WEBHOOK_NOT_CONFIGURED,
                "Zuora callouts are not configured (BG_ZUORA_CALLOUT_USERNAME, "
                "BG_ZUORA_CALLOUT_PASSWORD and BG_ZUORA_CALLOUT_SECRETS).",
            )
        body = await request.body()
        verify_callout(
            body,
            dict(request.headers),
            auth,
            tolerance_seconds=settings.webhook_tolerance_seconds,
        )
        try:
            event = callout_event(
                notification_id, loads_within_depth(body, settings.max_json_depth)
            )
        except ValueError as error:
            raise BillingError(
                ErrorCode.MALFORMED_BODY,
                f"A signed callout that is not one the gateway reads: {error}.",
            ) from None
        row_id = await record_event(event)
        if row_id is not None:
            await _defer(row_id)
        return {"success": True}


async def _defer(row_id: Any) -> None:
    """Hand the event to a job; if the queue is unreachable, the minute sweep finds it."""
    from gateway.webhooks.jobs import process

    try:
        await process.defer_async(event_row_id=str(row_id))
    except Exception as error:
        _log.warning("webhook job not deferred; the sweep will process it", error=str(error))
