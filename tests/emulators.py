"""Provider emulators served by uvicorn on a free loopback port, in a thread of the test
process, so tests talk to them over real HTTP and can still set up their state directly."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from adapters.serving import BackgroundServer
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.seed import seed_demo as seed_stripe
from adapters.stripe.emulator.state import StripeAccount
from adapters.zuora.emulator.app import create_emulator
from adapters.zuora.emulator.seed import seed_demo as seed_zuora
from adapters.zuora.emulator.state import Tenant


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    server = BackgroundServer(app, free_port()).start()
    try:
        yield server.base
    finally:
        server.stop()


def post(base: str, path: str) -> int:
    return httpx.post(f"{base}{path}", timeout=5).status_code


@pytest.fixture
def provider_emulators() -> Iterator[None]:
    """Fresh demo Zuora and Stripe emulators where the app's adapters point, for work that
    is carried out at the providers (Apply)."""
    from settings import get_settings  # read once the test run's settings are in place

    settings = get_settings()
    tenant = Tenant()
    seed_zuora(tenant)
    account = StripeAccount()
    seed_stripe(account, settings.plan_tiers)
    zuora = BackgroundServer(create_emulator(tenant), settings.zuora_emulator_port).start()
    stripe = BackgroundServer(create_stripe_emulator(account), settings.stripe_emulator_port)
    stripe.start()
    try:
        yield
    finally:
        zuora.stop()
        stripe.stop()
