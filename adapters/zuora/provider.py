"""Zuora as the gateway sees it: its adapter from settings (SOAP or REST), its callouts in,
its sandbox emulator (adapters/zuora/sandbox.py), and what in a recorded transcript is secret
(the one registry line is in adapters/registry.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from adapters.events import ProviderEvent
from adapters.provider import Provider, Transcripts, Webhook
from adapters.zuora.adapter import ZuoraAdapter
from adapters.zuora.callouts import (
    NOTIFICATION_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    CalloutAuth,
    callout_event,
    verify_callout,
)
from adapters.zuora.emulator.app import SOAP_PATH
from adapters.zuora.emulator.state import Tenant
from adapters.zuora.links import DASHBOARD
from adapters.zuora.rest_session import RestConfig, ZuoraRest
from adapters.zuora.rest_transport import RestTransport
from adapters.zuora.sandbox import sandbox_help, zuora_emulator
from adapters.zuora.settings import ZuoraSettings, ZuoraTransportName
from adapters.zuora.soap_session import DEFAULT_WSDL, SoapConfig, ZuoraSoap
from adapters.zuora.soap_transport import SoapTransport
from gateway.core.errors import BillingError, ErrorCode


def rest_session(settings: ZuoraSettings) -> ZuoraRest | None:
    """Zuora's REST API as configured, or the emulator's in sandbox (its default credentials)."""
    emulator = Tenant()
    sandbox = settings.sandbox
    url = settings.zuora_rest_url or (settings.zuora_emulator_base if sandbox else None)
    client_id = settings.zuora_client_id or (emulator.client_id if sandbox else None)
    secret = settings.zuora_client_secret or (emulator.client_secret if sandbox else None)
    if not (url and client_id and secret):
        return None
    pace = settings.provider_calls_per_second.get("zuora")
    timeout = settings.zuora_timeout_seconds
    return ZuoraRest(
        RestConfig(url, client_id, secret, timeout_seconds=timeout, calls_per_second=pace)
    )


def zuora_from_settings(settings: ZuoraSettings) -> ZuoraAdapter | None:
    if settings.zuora_transport is ZuoraTransportName.REST:
        session = rest_session(settings)
        return None if session is None else ZuoraAdapter(RestTransport(session))
    emulator = Tenant()  # only its default credentials are read, for sandbox
    sandbox = settings.sandbox
    base = settings.zuora_emulator_base
    url = settings.zuora_soap_url or (f"{base}{SOAP_PATH}" if sandbox else None)
    username = settings.zuora_username or (emulator.username if sandbox else None)
    password = settings.zuora_password or (emulator.password if sandbox else None)
    if not (url and username and password):
        return None
    config = SoapConfig(
        url,
        username,
        password,
        settings.zuora_wsdl or DEFAULT_WSDL,
        timeout_seconds=settings.zuora_timeout_seconds,
        calls_per_second=settings.provider_calls_per_second.get("zuora"),
    )
    return ZuoraAdapter(SoapTransport(ZuoraSoap(config)))


def callout_auth(settings: ZuoraSettings) -> CalloutAuth | None:
    """The configured callout user and secrets; in sandbox with the emulator, its own."""
    username, password = settings.zuora_callout_username, settings.zuora_callout_password
    secrets = settings.zuora_callout_secrets
    if settings.zuora_emulated:
        from adapters.zuora.emulator import callouts as emulator

        username = username or emulator.CALLOUT_USERNAME
        password = password or emulator.CALLOUT_PASSWORD
        secrets = secrets or (emulator.CALLOUT_SECRET,)
    if not (username and password and secrets):
        return None
    return CalloutAuth(username, password, tuple(secrets))


def _verify(
    settings: ZuoraSettings, body: bytes, headers: Mapping[str, str], tolerance: int
) -> None:
    auth = callout_auth(settings)
    if auth is None:
        raise BillingError(
            ErrorCode.WEBHOOK_NOT_CONFIGURED,
            "Zuora callouts are not configured (BG_ZUORA_CALLOUT_USERNAME, "
            "BG_ZUORA_CALLOUT_PASSWORD and BG_ZUORA_CALLOUT_SECRETS).",
        )
    verify_callout(body, headers, auth, tolerance_seconds=tolerance)


def _event(headers: Mapping[str, str], body: Any) -> ProviderEvent:
    return callout_event(headers.get(NOTIFICATION_ID_HEADER.lower()), body)


PROVIDER = Provider(
    name="zuora",
    settings=ZuoraSettings,
    adapter=zuora_from_settings,
    webhook=Webhook(
        operation_id="receiveZuoraCallout",
        summary="Zuora callouts in (Basic auth and X-Callout-Signature)",
        description=(
            "Authorization: Basic (BG_ZUORA_CALLOUT_USERNAME/PASSWORD); X-Callout-Timestamp: "
            "unix seconds; X-Callout-Signature: v1=<hex HMAC-SHA256(secret, timestamp + '.' + "
            "raw body)>; Zuora-Notification-Id: the event's id (a repeat is answered, not "
            'kept twice). Answers {"success": true} at once; a job re-reads the object.'
        ),
        headers={
            NOTIFICATION_ID_HEADER: "the event's id",
            TIMESTAMP_HEADER: "unix seconds",
            SIGNATURE_HEADER: "v1=<HMAC-SHA256 hex>[,v1=...]",
        },
        verify=_verify,
        event=_event,
        malformed="A signed callout that is not one the gateway reads: {error}.",
        answer=lambda duplicate: {"success": True},
    ),
    emulator=zuora_emulator,
    sandbox_help=sandbox_help,
    dashboard=DASHBOARD,
    transcripts=Transcripts(
        request_headers=("Authorization",),
        response_headers=("Set-Cookie",),
        body_secrets=(
            # SOAP: the login's user and password, the session it returns and every call carries
            re.compile(r"<(?:[\w-]+:)?(?:password|username|[sS]ession)>(?P<secret>[^<]*)</"),
            re.compile(r"\b(?:client_secret|client_id)=(?P<secret>[^&]*)"),  # OAuth form
            re.compile(r'"(?:access_token|jti)":\s*"(?P<secret>[^"]*)"'),  # OAuth token
        ),
    ),
)
