"""The billing providers the gateway talks to, built once from settings.

In sandbox, every Zuora value left unset points at the built-in emulator that
`billing-gateway run` serves on 127.0.0.1:BG_ZUORA_EMULATOR_PORT, with the emulator's own
credentials, and Stripe without BG_STRIPE_API_KEY points at the Stripe emulator on
BG_STRIPE_EMULATOR_PORT. In production a provider is configured only when its credentials are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.stripe.adapter import StripeAdapter
from adapters.stripe.client import StripeConfig
from adapters.stripe.emulator.state import API_KEY as STRIPE_EMULATOR_KEY
from adapters.zuora.adapter import ZuoraAdapter
from adapters.zuora.emulator.app import SOAP_PATH
from adapters.zuora.emulator.state import Tenant
from adapters.zuora.rest_session import RestConfig, ZuoraRest
from adapters.zuora.rest_transport import RestTransport
from adapters.zuora.soap_session import DEFAULT_WSDL, SoapConfig, ZuoraSoap
from adapters.zuora.soap_transport import SoapTransport
from settings import Settings
from settings.model import ZuoraTransportName


@dataclass
class Providers:
    """The configured adapters by provider name ("zuora", later "stripe")."""

    adapters: dict[str, Any]

    def get(self, name: str) -> Any | None:
        return self.adapters.get(name)

    async def close(self) -> None:
        for adapter in self.adapters.values():
            await adapter.close()


def emulator_base(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.zuora_emulator_port}"


def stripe_emulator_base(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.stripe_emulator_port}"


def stripe_from_settings(settings: Settings) -> StripeAdapter | None:
    use_emulator = settings.sandbox and not settings.stripe_api_key
    api_key = STRIPE_EMULATOR_KEY if use_emulator else settings.stripe_api_key
    if not api_key:
        return None
    base = stripe_emulator_base(settings) if use_emulator else settings.stripe_api_base
    return StripeAdapter(
        StripeConfig(
            api_key,
            base,
            timeout_seconds=settings.stripe_timeout_seconds,
            max_network_retries=settings.stripe_max_network_retries,
            calls_per_second=settings.provider_calls_per_second.get("stripe"),
            document_origins=(stripe_emulator_base(settings),) if use_emulator else (),
        )
    )


def zuora_from_settings(settings: Settings) -> ZuoraAdapter | None:
    emulator = Tenant()  # only its default credentials are read, for sandbox
    sandbox = settings.sandbox
    timeout = settings.zuora_timeout_seconds
    pace = settings.provider_calls_per_second.get("zuora")
    if settings.zuora_transport is ZuoraTransportName.REST:
        url = settings.zuora_rest_url or (emulator_base(settings) if sandbox else None)
        client_id = settings.zuora_client_id or (emulator.client_id if sandbox else None)
        secret = settings.zuora_client_secret or (emulator.client_secret if sandbox else None)
        if not (url and client_id and secret):
            return None
        return ZuoraAdapter(
            RestTransport(
                ZuoraRest(
                    RestConfig(
                        url, client_id, secret, timeout_seconds=timeout, calls_per_second=pace
                    )
                )
            )
        )
    url = settings.zuora_soap_url or (f"{emulator_base(settings)}{SOAP_PATH}" if sandbox else None)
    username = settings.zuora_username or (emulator.username if sandbox else None)
    password = settings.zuora_password or (emulator.password if sandbox else None)
    if not (url and username and password):
        return None
    config = SoapConfig(
        url,
        username,
        password,
        settings.zuora_wsdl or DEFAULT_WSDL,
        timeout_seconds=timeout,
        calls_per_second=pace,
    )
    return ZuoraAdapter(SoapTransport(ZuoraSoap(config)))


# One line per provider: adding one is a new folder under adapters/ and a line here.
PROVIDER_BUILDERS: dict[str, Callable[[Settings], Any | None]] = {
    "zuora": zuora_from_settings,
    "stripe": stripe_from_settings,
}


def providers_from_settings(settings: Settings) -> Providers:
    built = {name: build(settings) for name, build in PROVIDER_BUILDERS.items()}
    return Providers({name: adapter for name, adapter in built.items() if adapter is not None})
