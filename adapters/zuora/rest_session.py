"""Zuora's REST API through httpx: an OAuth token (client credentials) renewed before it expires
or when Zuora says it is no longer valid; calls retried with backoff and jitter when Zuora is busy
(lock competition, rate limits, 5xx) or the network fails; `Idempotency-Key` on every POST and
PATCH that writes, so that a repeat is answered by Zuora instead of made twice; and a
`Zuora-Track-Id` on every call, logged with Zuora's own request id, so that one call can be found
in Zuora's logs and in ours.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import msgspec
import structlog

from adapters.pacing import paced_client
from adapters.retry import provider_retrying
from adapters.zuora.calls import CallLog, ProviderCall, new_track_id
from adapters.zuora.errors import (
    TRANSIENT_REST_CATEGORIES,
    from_zuora_error,
    from_zuora_reason,
    rest_category,
)
from adapters.zuora.transport import UnknownOutcomeError
from gateway.core.errors import BillingError

log = structlog.get_logger("adapters.zuora.rest")
REFRESH_MARGIN_SECONDS = 60
BUSY_STATUSES = frozenset({429, 502, 503, 504})
# Amounts go out as exact JSON numbers (a Decimal, never a float) and come back as Decimals.
_BODY = msgspec.json.Encoder(decimal_format="number")


@dataclass(frozen=True)
class RestConfig:
    url: str  # https://rest.sandbox.eu.zuora.com, or the emulator
    client_id: str
    client_secret: str
    timeout_seconds: float = 30.0
    attempts: int = 4
    max_backoff_seconds: float = 4.0
    zuora_version: str = "2024-05-20"
    calls_per_second: float | None = None  # the process's pace for Zuora; None: unpaced


def derived_key(key: str, purpose: str) -> str:
    """The Idempotency-Key for one step of one request: stable across retries and processes,
    under Zuora's 255 characters, and not the client's key itself."""
    return hashlib.sha256(f"{key}|{purpose}".encode()).hexdigest()


class _BusyError(Exception):
    """Zuora refused without changing anything; worth another try after a pause."""

    def __init__(self, error: BillingError) -> None:
        super().__init__(error.detail)
        self.error = error


def _busy(response: httpx.Response, step: str) -> _BusyError:
    """Zuora (or what is in front of it) is busy: wait what it says (its 429s and 503s may say
    Retry-After), else the gateway's default."""
    busy = from_zuora_error("SERVER_UNAVAILABLE", step)
    retry_after = response.headers.get("Retry-After", "")
    if retry_after.isdigit():
        busy.headers["Retry-After"] = retry_after
    return _BusyError(busy)


def _lost(error: BaseException) -> bool:
    return isinstance(error, httpx.TransportError)


def is_write(method: str, path: str) -> bool:
    """Whether a call changes something at Zuora: previews and queries are POSTs that do not."""
    return method != "GET" and not path.endswith(("/preview", "/action/query"))


class ZuoraRest:
    def __init__(self, config: RestConfig) -> None:
        self._config = config
        self._http = paced_client(
            "zuora", config.calls_per_second, base_url=config.url, timeout=config.timeout_seconds
        )
        self._token: str | None = None
        self._token_expires = 0.0
        self._signing_in = asyncio.Lock()
        self.calls = CallLog()
        self.last_call: ProviderCall | None = None

    async def close(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        step: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """The JSON answer (or the bytes of a file), once Zuora says `success`.

        A POST without an idempotency key is taken as a write only if `idempotency_key` is None
        and the path is not a read in disguise (`/preview`, `/action/query`): such a write is
        never repeated blindly; a lost answer raises UnknownOutcomeError instead.
        """
        reads = method in ("GET", "PUT", "DELETE") or path.endswith(("/preview", "/action/query"))
        repeatable = reads or idempotency_key is not None

        def retryable(error: BaseException) -> bool:
            return isinstance(error, _BusyError) or (repeatable and _lost(error))

        try:
            async for attempt in provider_retrying(
                retryable,
                attempts=self._config.attempts,
                max_backoff_seconds=self._config.max_backoff_seconds,
            ):
                with attempt:
                    return await self._signed_in(method, path, step, json, params, idempotency_key)
        except _BusyError as busy:
            raise busy.error from None
        except httpx.TransportError:
            if not repeatable:
                raise UnknownOutcomeError(step) from None
            raise from_zuora_error("SERVER_UNAVAILABLE", step) from None
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _signed_in(
        self,
        method: str,
        path: str,
        step: str,
        body: Any,
        params: dict[str, Any] | None,
        idempotency_key: str | None,
    ) -> Any:
        token = await self._sign_in()
        response = await self._send(method, path, body, params, idempotency_key, token)
        if response.status_code == 401:
            # Tokens expire (and can be revoked): sign in again once and repeat the call.
            token = await self._sign_in(stale=token)
            response = await self._send(method, path, body, params, idempotency_key, token)
        return self._answer(response, step)

    async def _send(
        self,
        method: str,
        path: str,
        body: Any,
        params: dict[str, Any] | None,
        idempotency_key: str | None,
        token: str,
    ) -> httpx.Response:
        track_id = new_track_id()
        headers = {
            "Authorization": f"Bearer {token}",
            "Zuora-Track-Id": track_id,
            "Zuora-Version": self._config.zuora_version,
            "Accept": "application/json",
        }
        if idempotency_key and method in ("POST", "PATCH"):
            headers["Idempotency-Key"] = idempotency_key
        content = None
        if body is not None:
            content = _BODY.encode(body)
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        response = await self._http.request(
            method, path, content=content, params=params, headers=headers
        )
        self.last_call = ProviderCall(
            provider_request_id=response.headers.get("Zuora-Request-Id"),
            track_id=track_id,
            method=method,
            path=path,
            status=response.status_code,
            write=is_write(method, path),
        )
        self.calls.record(self.last_call)
        log.info(
            "zuora.rest.call",
            method=method,
            path=path,
            status=response.status_code,
            track_id=track_id,
            zuora_request_id=self.last_call.provider_request_id,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return response

    def _answer(self, response: httpx.Response, step: str) -> Any:
        try:
            return self._read(response, step)
        except BillingError as error:
            # Zuora's support finds a call by its request id; problem bodies carry it.
            request_id = response.headers.get("Zuora-Request-Id")
            if request_id:
                error.extra["provider_request_id"] = request_id
            raise
        except _BusyError as busy:
            request_id = response.headers.get("Zuora-Request-Id")
            if request_id:
                busy.error.extra["provider_request_id"] = request_id
            raise

    def _read(self, response: httpx.Response, step: str) -> Any:
        if response.status_code in BUSY_STATUSES:
            raise _busy(response, step)
        if response.headers.get("content-type", "").startswith("application/pdf"):
            return response.content
        try:
            answer = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            raise from_zuora_error("SERVER_UNAVAILABLE", step) from None
        # HTTP 200 does not mean success on Zuora: the body says so.
        if isinstance(answer, dict) and answer.get("success") is False:
            reasons = answer.get("reasons") or [{"code": 0}]
            code = int(reasons[0].get("code") or 0)
            error = from_zuora_reason(code, step)
            if rest_category(code) in TRANSIENT_REST_CATEGORIES:
                raise _BusyError(error)
            raise error
        if response.status_code >= 400:
            raise from_zuora_error("SERVER_UNAVAILABLE", step)
        return answer

    async def _sign_in(self, stale: str | None = None) -> str:
        async with self._signing_in:
            fresh = self._token and time.monotonic() < self._token_expires
            if not fresh or self._token == stale:
                response = await self._http.post(
                    "/oauth/token",
                    data={
                        "client_id": self._config.client_id,
                        "client_secret": self._config.client_secret,
                        "grant_type": "client_credentials",
                    },
                )
                if response.status_code in BUSY_STATUSES:
                    raise _busy(response, "signing in to Zuora")
                if response.status_code != 200:
                    raise from_zuora_error("INVALID_LOGIN", "signing in to Zuora")
                try:
                    token = response.json()
                    self._token = str(token["access_token"])
                    lifetime = float(token.get("expires_in", 3600))
                except (ValueError, KeyError, TypeError, AttributeError):
                    # A 200 that is not Zuora's token (a maintenance page in front of it).
                    failure = from_zuora_error("SERVER_UNAVAILABLE", "signing in to Zuora")
                    raise _BusyError(failure) from None
                self._token_expires = time.monotonic() + lifetime - REFRESH_MARGIN_SECONDS
            return str(self._token)
