"""Stripe's settings group: the BG_STRIPE_* variables. The gateway's Settings inherits it; it
imports nothing of the project. In sandbox, no API key means the built-in emulator."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field
from pydantic_settings import NoDecode


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(secret.strip() for secret in value.split(",") if secret.strip())
    return value


class StripeSettings(BaseModel):
    # A restricted or secret key; in sandbox, unset means the built-in emulator.
    stripe_api_key: str | None = Field(default=None, repr=False)
    stripe_api_base: str | None = None  # another Stripe-compatible server (tests, proxies)
    stripe_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    stripe_max_network_retries: int = Field(default=2, ge=0, le=10)
    stripe_emulator_port: int = Field(default=8011, ge=1, le=65535)
    # The back office's links: <url>/customers/<cus_...> and <url>/connect/accounts/<acct_...>,
    # under <url>/test/ with a test-mode key. In sandbox, links to the built-in emulator open
    # its read-only page of that customer instead.
    stripe_dashboard_url: str = Field(
        default="https://dashboard.stripe.com", pattern=r"^https?://[^\s/?#]+[^\s?#]*$"
    )
    # Webhook signing secrets (whsec_...), comma-separated: during a rotation, the new and the
    # old one are both accepted. In sandbox, unset means the Stripe emulator's.
    stripe_webhook_secrets: Annotated[tuple[str, ...], NoDecode, BeforeValidator(_split)] = Field(
        default=(), repr=False
    )

    if TYPE_CHECKING:  # the gateway's own settings the provider reads (its Settings has them)
        data_dir: Path
        plan_tiers: tuple[Any, ...]
        provider_calls_per_second: dict[str, float]

        @property
        def sandbox(self) -> bool: ...

    @property
    def stripe_emulated(self) -> bool:
        """In sandbox with no API key: the built-in emulator stands in for Stripe."""
        return self.sandbox and not self.stripe_api_key

    @property
    def stripe_emulator_base(self) -> str:
        return f"http://127.0.0.1:{self.stripe_emulator_port}"
