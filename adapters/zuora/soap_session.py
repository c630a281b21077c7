"""Zuora's SOAP API through zeep: one signed-in session, renewed when Zuora says it expired,
and calls retried with backoff and jitter when Zuora is busy (LOCK_COMPETITION and friends) or
the network fails. A retried `create` is only safe because the adapter looks for its earlier
work first: SOAP has no idempotency keys.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from zeep import AsyncClient, Settings
from zeep.exceptions import Fault
from zeep.exceptions import TransportError as SoapHttpError
from zeep.proxy import AsyncServiceProxy
from zeep.transports import AsyncTransport

from adapters.retry import provider_retrying
from adapters.zuora.errors import TRANSIENT, from_zuora_error
from adapters.zuora.transport import UnknownOutcomeError

DEFAULT_WSDL = Path(__file__).parent / "zuora.wsdl"
BINDING = "{http://api.zuora.com/}SoapBinding"
OBJECTS = "http://object.api.zuora.com/"


@dataclass(frozen=True)
class SoapConfig:
    url: str
    username: str
    password: str
    wsdl: Path = DEFAULT_WSDL
    timeout_seconds: float = 30.0
    attempts: int = 4
    max_backoff_seconds: float = 4.0
    query_batch_size: int | None = None  # records per query page; None: Zuora's 2000


def fault_code(fault: Fault) -> str:
    """Zuora's error code from a fault: in the detail, else in the faultcode (`fns:CODE`)."""
    if fault.detail is not None:
        for node in fault.detail.iter():
            if str(node.tag).endswith("FaultCode") and node.text:
                return str(node.text)
    return str(fault.code or "").rsplit(":", 1)[-1] or "UNKNOWN_ERROR"


def _refused(error: BaseException) -> bool:
    """Zuora said no without changing anything: busy, locked, or an HTTP 5xx from in front."""
    if isinstance(error, Fault):
        return fault_code(error) in TRANSIENT
    return isinstance(error, SoapHttpError)


def _lost(error: BaseException) -> bool:
    """The call may or may not have reached Zuora: a network failure or a timeout."""
    return isinstance(error, httpx.TransportError)


class _CheckedTransport(AsyncTransport):
    """zeep parses whatever comes back as SOAP; a proxy's 502/503 page is not, so it becomes a
    TransportError (a refusal worth retrying) before zeep tries."""

    async def post(self, address: str, message: bytes, headers: dict[str, str]) -> Any:
        response = await super().post(address, message, headers)
        is_xml = "xml" in response.headers.get("content-type", "")
        if response.status_code >= 400 and not is_xml:
            raise SoapHttpError(status_code=response.status_code, content=response.content)
        return response


class ZuoraSoap:
    def __init__(self, config: SoapConfig) -> None:
        self._config = config
        self._http = httpx.AsyncClient(timeout=config.timeout_seconds)
        self._client = AsyncClient(
            str(config.wsdl),
            settings=Settings(strict=False),  # real tenants return fields a WSDL may not know
            transport=_CheckedTransport(client=self._http),
        )
        # AsyncClient.create_service hands back a synchronous proxy; this one awaits.
        self._service = AsyncServiceProxy(
            self._client, self._client.wsdl.bindings[BINDING], address=config.url
        )
        self._session: str | None = None
        self._signing_in = asyncio.Lock()

    def make(self, kind: str, **fields: Any) -> Any:
        """A zObject of `kind` (Account, PaymentMethod, ...) with `fields` set."""
        return self._client.get_type(f"{{{OBJECTS}}}{kind}")(**fields)

    async def call(
        self, operation: str, step: str, *, repeatable: bool = True, **arguments: Any
    ) -> Any:
        """Call `operation`; `step` names it in errors ("creating the SEPA payment method").

        A call that is not `repeatable` (a create) is retried only when Zuora refused it
        outright; when its answer is lost it raises UnknownOutcomeError, so that the caller looks
        for its earlier work before trying again.
        """

        def retryable(error: BaseException) -> bool:
            return _refused(error) or (repeatable and _lost(error))

        try:
            async for attempt in provider_retrying(
                retryable,
                attempts=self._config.attempts,
                max_backoff_seconds=self._config.max_backoff_seconds,
            ):
                with attempt:
                    return await self._signed_in_call(operation, arguments)
        except Fault as fault:
            raise from_zuora_error(fault_code(fault), step) from None
        except httpx.TransportError:
            if not repeatable:
                raise UnknownOutcomeError(step) from None
            raise from_zuora_error("SERVER_UNAVAILABLE", step) from None
        except SoapHttpError:
            raise from_zuora_error("SERVER_UNAVAILABLE", step) from None
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _signed_in_call(self, operation: str, arguments: dict[str, Any]) -> Any:
        session = await self._sign_in()
        try:
            return await self._invoke(operation, arguments, session)
        except Fault as fault:
            if fault_code(fault) != "INVALID_SESSION":
                raise
            # Sessions expire; sign in again once and repeat the call.
            return await self._invoke(operation, arguments, await self._sign_in(stale=session))

    async def _invoke(self, operation: str, arguments: dict[str, Any], session: str) -> Any:
        headers: dict[str, Any] = {"SessionHeader": {"session": session}}
        if self._config.query_batch_size and operation in ("query", "queryMore"):
            headers["QueryOptions"] = {"batchSize": self._config.query_batch_size}
        return await getattr(self._service, operation)(**arguments, _soapheaders=headers)

    async def _sign_in(self, stale: str | None = None) -> str:
        async with self._signing_in:
            if self._session is None or self._session == stale:
                result = await self._service.login(
                    username=self._config.username, password=self._config.password
                )
                self._session = str(result.Session)
            return self._session

    async def close(self) -> None:
        await self._http.aclose()
