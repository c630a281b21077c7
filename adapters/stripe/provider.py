"""Stripe as the gateway sees it: its adapter from settings, its signed events in, its sandbox
emulator, and what in a recorded transcript is secret (the one registry line is in
adapters/registry.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from adapters.events import ProviderEvent
from adapters.provider import Emulator, Provider, Transcripts, Webhook
from adapters.stripe.adapter import StripeAdapter
from adapters.stripe.client import StripeConfig
from adapters.stripe.emulator.state import API_KEY, WEBHOOK_SECRET
from adapters.stripe.links import DASHBOARD
from adapters.stripe.settings import StripeSettings
from adapters.stripe.signature import stripe_event, verify_stripe_signature
from gateway.core.errors import BillingError, ErrorCode


def stripe_from_settings(settings: StripeSettings) -> StripeAdapter | None:
    api_key = API_KEY if settings.stripe_emulated else settings.stripe_api_key
    if not api_key:
        return None
    emulated = settings.stripe_emulated
    return StripeAdapter(
        StripeConfig(
            api_key,
            settings.stripe_emulator_base if emulated else settings.stripe_api_base,
            timeout_seconds=settings.stripe_timeout_seconds,
            max_network_retries=settings.stripe_max_network_retries,
            calls_per_second=settings.provider_calls_per_second.get("stripe"),
            document_origins=(settings.stripe_emulator_base,) if emulated else (),
        )
    )


def webhook_secrets(settings: StripeSettings) -> tuple[str, ...]:
    if settings.stripe_webhook_secrets:
        return settings.stripe_webhook_secrets
    return (WEBHOOK_SECRET,) if settings.stripe_emulated else ()


def _verify(
    settings: StripeSettings, body: bytes, headers: Mapping[str, str], tolerance: int
) -> None:
    secrets = webhook_secrets(settings)
    if not secrets:
        raise BillingError(
            ErrorCode.WEBHOOK_NOT_CONFIGURED,
            "No Stripe webhook secret is configured (BG_STRIPE_WEBHOOK_SECRETS).",
        )
    signature = headers.get("stripe-signature")
    verify_stripe_signature(body, signature, secrets, tolerance_seconds=tolerance)


def _event(headers: Mapping[str, str], body: Any) -> ProviderEvent:
    if not (isinstance(body, dict) and body.get("object") == "event" and body.get("id")):
        raise ValueError("not a Stripe event")
    return stripe_event(body)


def stripe_emulator(settings: StripeSettings, gateway: str) -> Emulator | None:
    """In sandbox without a Stripe key, the Stripe emulator, seeded, sending its signed events
    to the gateway's webhook endpoint as Stripe would; its account is kept in
    `<data dir>/emulators/stripe.json` across restarts, as the gateway's database is."""
    if not settings.stripe_emulated:
        return None
    from adapters.stripe.emulator.app import create_stripe_emulator
    from adapters.stripe.emulator.seed import seed_demo
    from adapters.stripe.emulator.state import StripeAccount

    account = StripeAccount()
    account.webhook_endpoints.append((f"{gateway}/v1/webhooks/stripe", WEBHOOK_SECRET))
    app = create_stripe_emulator(
        account,
        state_file=settings.data_dir / "emulators" / "stripe.json",
        seed=lambda fresh: seed_demo(fresh, settings.plan_tiers),
    )
    return Emulator(app, settings.stripe_emulator_port, "BG_STRIPE_EMULATOR_PORT")


def _sandbox_help(settings: StripeSettings, api: str) -> str:
    if not settings.stripe_emulated:
        return ""
    return (
        f"  Stripe     SANDBOX emulator at {settings.stripe_emulator_base} "
        "(demo customers cus_DemoAtelier01, cus_DemoBrasserie2)\n"
    )


PROVIDER = Provider(
    name="stripe",
    settings=StripeSettings,
    adapter=stripe_from_settings,
    webhook=Webhook(
        operation_id="receiveStripeEvent",
        summary="Stripe events in (signed with Stripe-Signature)",
        headers={"Stripe-Signature": "t=<unix time>,v1=<HMAC-SHA256 hex> as Stripe sends it"},
        verify=_verify,
        event=_event,
        malformed="A signed body that is not a Stripe event.",
        answer=lambda duplicate: {"received": True, "duplicate": duplicate},
    ),
    emulator=stripe_emulator,
    sandbox_help=_sandbox_help,
    dashboard=DASHBOARD,
    transcripts=Transcripts(
        request_headers=("Authorization", "X-Stripe-Client-User-Agent"),
        response_headers=("Set-Cookie",),
        body_secrets=(
            re.compile(r"\b[rs]k_(?:test|live)_(?P<secret>\w+)"),  # API keys
            re.compile(r"\bwhsec_(?P<secret>\w+)"),  # webhook signing secrets
            re.compile(r'"client_secret":\s*"(?P<secret>[^"]*)"'),  # intents' client secrets
        ),
    ),
)
