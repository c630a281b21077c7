"""ZuoraAdapter for either transport, pointed at a URL with given credentials."""

from __future__ import annotations

from adapters.zuora.adapter import ZuoraAdapter
from adapters.zuora.emulator.app import SOAP_PATH
from adapters.zuora.rest_session import RestConfig, ZuoraRest
from adapters.zuora.rest_transport import RestTransport
from adapters.zuora.soap_session import SoapConfig, ZuoraSoap
from adapters.zuora.soap_transport import SoapTransport


def zuora_adapter(transport: str, base: str, user: str, secret: str) -> ZuoraAdapter:
    """`base` is the host for REST, or the host plus SOAP_PATH for SOAP when it has no path."""
    if transport == "rest":
        return ZuoraAdapter(RestTransport(ZuoraRest(RestConfig(base, user, secret))))
    url = base if "/apps/services/" in base else f"{base}{SOAP_PATH}"
    return ZuoraAdapter(SoapTransport(ZuoraSoap(SoapConfig(url, user, secret))))
