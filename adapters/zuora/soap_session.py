"""Zuora's SOAP API through zeep: one signed-in session, renewed when Zuora says it expired,
and calls retried with backoff and jitter when Zuora is busy (LOCK_COMPETITION and friends) or
the network fails. A retried `create` is only safe because the adapter looks for its earlier
work first: SOAP has no idempotency keys.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from zeep import AsyncClient, Settings
from zeep.exceptions import Fault, UnexpectedElementError, XMLParseError, XMLSyntaxError
from zeep.proxy import AsyncServiceProxy
from zeep.transports import AsyncTransport

from adapters.pacing import paced_client
from adapters.retry import provider_retrying
from adapters.zuora.calls import CallLog, ProviderCall, new_track_id
from adapters.zuora.errors import TRANSIENT, from_zuora_error
from adapters.zuora.transport import UnknownOutcomeError
from gateway.core.errors import BillingError

DEFAULT_WSDL = Path(__file__).parent / "zuora.wsdl"
BINDING = "{http://api.zuora.com/}SoapBinding"
OBJECTS = "http://object.api.zuora.com/"
WRITES = frozenset({"create", "update", "delete", "amend", "subscribe", "generate", "execute"})
# Statuses by which a server in front of Zuora says it did not pass the call on.
NOT_PASSED_ON = frozenset({429, 503})
DEFAULT_RETRY_AFTER_SECONDS = 5
# zeep's errors for an answer it cannot read (its errors for a request it cannot write are the
# gateway's bugs, and stay internal errors).
UNREADABLE = (XMLSyntaxError, XMLParseError, UnexpectedElementError)
_operation: ContextVar[str] = ContextVar("zuora_soap_operation", default="")


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
    calls_per_second: float | None = None  # the process's pace for Zuora; None: unpaced


class SoapUnavailableError(Exception):
    """An HTTP answer that is not SOAP: a proxy's or load balancer's page, a bare 503."""

    def __init__(self, status: int, retry_after: str | None) -> None:
        super().__init__(f"HTTP {status} without a SOAP envelope")
        self.status = status
        self.retry_after = retry_after

    @property
    def passed_on(self) -> bool:
        """Whether the call may have reached Zuora: a 503 or 429 says it did not; a 502, a
        504 or a garbled 200 cannot say (the proxy may have timed out on a call Zuora made)."""
        return self.status not in NOT_PASSED_ON and not 400 <= self.status < 500


def is_soap(response: httpx.Response) -> bool:
    """Whether an answer is a SOAP envelope, by its first bytes (cheap, and enough: zeep
    parses it properly next). zeep reads anything else as a broken fault."""
    head = response.content[:512].lstrip()
    return "xml" in response.headers.get("content-type", "") and (
        b":Envelope" in head or b"<Envelope" in head
    )


def fault_code(fault: Fault) -> str:
    """Zuora's error code from a fault: in the detail, else in the faultcode (`fns:CODE`)."""
    if fault.detail is not None and hasattr(fault.detail, "iter"):
        for node in fault.detail.iter():
            if str(node.tag).endswith("FaultCode") and node.text:
                return str(node.text)
    return str(fault.code or "").rsplit(":", 1)[-1] or "UNKNOWN_ERROR"


def _refused(error: BaseException) -> bool:
    """Zuora said no without changing anything: busy, locked, or a 503/429 from in front."""
    if isinstance(error, Fault):
        return fault_code(error) in TRANSIENT
    return isinstance(error, SoapUnavailableError) and not error.passed_on


def _lost(error: BaseException) -> bool:
    """The call may or may not have reached Zuora: a network failure, a timeout, a gateway
    error from in front, or an answer zeep cannot read."""
    if isinstance(error, SoapUnavailableError):
        return error.passed_on
    return isinstance(error, (httpx.TransportError, *UNREADABLE))


def _unavailable(step: str, error: BaseException | None = None) -> BillingError:
    """Zuora cannot be reached or answered nothing usable: a 503 with Retry-After (the
    server's own when it gave one), never an internal error."""
    failure = from_zuora_error("SERVER_UNAVAILABLE", step)
    retry_after = getattr(error, "retry_after", None)
    seconds = retry_after if retry_after and retry_after.isdigit() else None
    failure.headers["Retry-After"] = seconds or str(DEFAULT_RETRY_AFTER_SECONDS)
    if isinstance(error, SoapUnavailableError):
        failure.extra["http_status"] = error.status
    return failure


class _CheckedTransport(AsyncTransport):
    """zeep parses whatever comes back as SOAP, and fails on anything else with errors of its
    own (AttributeError on a bare 503 whose content type says XML): an answer that is not a
    SOAP envelope becomes SoapUnavailableError before zeep sees it. Each message carries a
    `Zuora-Track-Id`, and the call is written in the call log."""

    def __init__(self, client: httpx.AsyncClient, calls: CallLog) -> None:
        super().__init__(client=client)
        self.calls = calls

    async def post(self, address: str, message: bytes, headers: dict[str, str]) -> Any:
        track_id = new_track_id()
        response = await super().post(address, message, {**headers, "Zuora-Track-Id": track_id})
        operation = _operation.get()
        self.calls.record(
            ProviderCall(
                provider_request_id=response.headers.get("Zuora-Request-Id"),
                track_id=track_id,
                method=operation,
                path=address,
                status=response.status_code,
                write=operation in WRITES,
            )
        )
        if not is_soap(response):
            raise SoapUnavailableError(response.status_code, response.headers.get("Retry-After"))
        return response


class ZuoraSoap:
    def __init__(self, config: SoapConfig) -> None:
        self._config = config
        # zeep's AsyncTransport sends through this httpx client: every SOAP call is paced.
        self._http = paced_client("zuora", config.calls_per_second, timeout=config.timeout_seconds)
        self.calls = CallLog()
        self._client = AsyncClient(
            str(config.wsdl),
            settings=Settings(strict=False),  # real tenants return fields a WSDL may not know
            transport=_CheckedTransport(self._http, self.calls),
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
        except (httpx.TransportError, SoapUnavailableError, *UNREADABLE) as error:
            if _lost(error) and not repeatable:
                raise UnknownOutcomeError(step) from None
            raise _unavailable(step, error) from None
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
        named = _operation.set(operation)  # read by the transport, in this same task
        try:
            return await getattr(self._service, operation)(**arguments, _soapheaders=headers)
        finally:
            _operation.reset(named)

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
