"""Where the back office's "Open in Stripe" goes: `<dashboard>/customers/<cus_...>` and
`<dashboard>/connect/accounts/<acct_...>`, under `/test/` when the gateway's key is a test-mode
key. `<dashboard>` is BG_STRIPE_DASHBOARD_URL (https://dashboard.stripe.com); in sandbox with
the emulator, the emulator, which serves the same paths as a read-only page, masked."""

from __future__ import annotations

from urllib.parse import quote

from adapters.provider import Dashboard
from adapters.stripe.settings import StripeSettings
from gateway.core.catalogues import N_

OPEN_CONNECT_IN_STRIPE = N_("Open the Connect account in Stripe")
_TEST_KEYS = ("sk_test_", "rk_test_")


def stripe_dashboard(settings: StripeSettings) -> str:
    """The dashboard, with `/test` for a test-mode key (the emulator's key is one)."""
    if settings.stripe_emulated:
        return f"{settings.stripe_emulator_base}/test"
    base = settings.stripe_dashboard_url.rstrip("/")
    test = (settings.stripe_api_key or "").startswith(_TEST_KEYS)
    return f"{base}/test" if test else base


def customer_url(settings: StripeSettings, customer: str) -> str:
    return f"{stripe_dashboard(settings)}/customers/{quote(customer, safe='')}"


def connect_url(settings: StripeSettings, account: str) -> str:
    return f"{stripe_dashboard(settings)}/connect/accounts/{quote(account, safe='')}"


DASHBOARD = Dashboard(N_("Open in Stripe"), customer_url)
