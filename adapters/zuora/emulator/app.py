"""The Zuora emulator as its own ASGI app: the SOAP endpoint of API version 84.0, the REST API
(`/oauth/token`, `/v1/...`) over the same tenant, and control endpoints for tests and demos.

Control endpoints (loopback only, never part of Zuora's API):
- `POST /_emulator/faults`: switches (latency, server errors, lock competition, slow answers
  after a commit, `rate_limit_per_second`), acting on both faces.
- `POST /_emulator/operation-faults` `{"operation", "mode", "times", "seconds", "code"?,
  "status"?}`, `GET` lists them, `DELETE` clears them (see `faults.py`).
- `POST /_emulator/debit-in-flight` `{"account", "amount_minor", "currency"}` starts a direct
  debit being collected; `DELETE /_emulator/debit-in-flight[?account=...]` settles it.
- `POST /_emulator/expire-sessions`.

A read-only page of each account, at the paths of Zuora's UI, is in `state_page.py`.

With a state file, the tenant is loaded from it at start and written after every change.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, delete, get, post, route
from litestar.exceptions import ValidationException
from litestar.params import FromQuery, JSONBody

from adapters.serving import fault_switches_handler
from adapters.zuora.emulator import persistence
from adapters.zuora.emulator.callout_control import callout_handlers
from adapters.zuora.emulator.callouts import attach_callouts
from adapters.zuora.emulator.debits import settle_debits, start_debit
from adapters.zuora.emulator.faults import (
    DROP_HEADER,
    DropMarked,
    OperationFault,
    OperationFaults,
    RateLimit,
    rest_operation,
    retry_after,
    soap_call,
    soap_refusal,
)
from adapters.zuora.emulator.rest import RestFace
from adapters.zuora.emulator.rest_shapes import Answer, as_json
from adapters.zuora.emulator.seed_cheques import seed_cheques
from adapters.zuora.emulator.seed_corrections import seed_corrections
from adapters.zuora.emulator.soap import SoapFace
from adapters.zuora.emulator.state import Faults, Tenant, ZuoraError
from adapters.zuora.emulator.state_page import state_page_handlers

SOAP_PATH = "/apps/services/a/84.0"
_WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def create_emulator(
    tenant: Tenant | None = None,
    *,
    state_file: Path | None = None,
    seed: Callable[[Tenant], object] | None = None,
) -> DropMarked:
    """The emulator's ASGI app (Litestar, behind a wrapper that can drop connections); its
    `state` holds tenant, rest, soap and operation_faults. With `state_file`, the tenant is
    the one kept there, or, the first time, a fresh one that `seed` fills and that is kept
    from then on (`persistence.StateFileError` if the file cannot be read)."""
    face = SoapFace(tenant or Tenant())
    rest = RestFace(face.tenant)
    operation_faults = OperationFaults()
    limit = RateLimit()
    if state_file is None or not persistence.load(state_file, face.tenant, rest):
        if seed is not None:
            seed(face.tenant)
        if state_file is not None:
            persistence.save(state_file, face.tenant, rest)
    elif seed is not None:  # a state kept before the later demos were seeded gets them now
        corrections = bool(seed_corrections(face.tenant))
        if seed_cheques(face.tenant) or corrections:
            persistence.save(state_file, face.tenant, rest)
    callouts = attach_callouts(face.tenant)  # after seeding: seeds make no callouts

    def faults() -> Faults:
        return face.tenant.faults  # read each time: tests swap in fresh switches

    def keep() -> None:
        if state_file is not None:
            persistence.save(state_file, face.tenant, rest)

    def over_limit() -> float:
        per_second = faults().rate_limit_per_second
        return limit.wait_seconds(per_second) if per_second > 0 else 0.0

    @post(SOAP_PATH, status_code=200)
    async def soap(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        wait = over_limit()
        if wait:
            # RATE: too many in a period (REQUEST_EXCEEDED_LIMIT is Zuora's concurrency limit).
            error = ZuoraError("REQUEST_EXCEEDED_RATE", "The request exceeded the rate limit.")
            return _xml(face._fault(error), 500, {"Retry-After": retry_after(wait)})
        if faults().latency_seconds:
            await asyncio.sleep(faults().latency_seconds)
        if faults().server_errors > 0:
            faults().server_errors -= 1
            return Response(b"Service Unavailable", status_code=503, media_type="text/plain")
        fault = operation_faults.take(soap_call(body)[1])
        if fault is not None and fault.mode == "fail":
            if fault.status is not None:
                return _bare(fault.status)
            return _xml(soap_refusal(body, fault), 200)
        if fault is not None and fault.mode == "slow":
            await asyncio.sleep(fault.seconds)
        status, answer, committed = face.handle(body)
        if committed:
            keep()
        if committed and faults().slow_after_commit > 0:
            # The change is made; the answer arrives after the client has given up on it.
            faults().slow_after_commit -= 1
            await asyncio.sleep(faults().slow_after_commit_seconds)
        if fault is not None and fault.mode == "lost_after_commit":
            return await _lost(fault, _xml(answer, status))
        return _xml(answer, status)

    @post("/oauth/token", status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[bytes]:
        form = await request.form()
        return _response(rest.token({name: str(value) for name, value in form.items()}))

    @route("/v1/{rest_path:path}", http_method=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def rest_api(request: Request[Any, Any, Any]) -> Response[bytes]:
        wait = over_limit()
        if wait:
            return _too_many(wait, faults().rate_limit_per_second)
        if faults().latency_seconds:
            await asyncio.sleep(faults().latency_seconds)
        if faults().server_errors > 0:
            faults().server_errors -= 1
            return Response(b"Service Unavailable", status_code=503, media_type="text/plain")
        headers = {name.lower(): value for name, value in request.headers.items()}
        operation = rest_operation(request.method, request.url.path)
        fault = operation_faults.take([operation] if operation else [])
        if fault is not None and fault.mode == "fail":
            if fault.status is not None:
                return _bare(fault.status)
            answer = rest._refusal(ZuoraError(fault.code, fault.message))
        elif faults().lock_competition > 0:
            faults().lock_competition -= 1
            answer = rest.lock_competition()
        else:
            if fault is not None and fault.mode == "slow":
                await asyncio.sleep(fault.seconds)
            answer = rest.handle(
                request.method,
                request.url.path,
                request.url.query or "",
                headers,
                await request.body(),
            )
            if answer.committed or request.method in _WRITE_METHODS:
                keep()  # a commit, or an answer kept for an idempotency key
        if answer.committed and faults().slow_after_commit > 0:
            faults().slow_after_commit -= 1
            await asyncio.sleep(faults().slow_after_commit_seconds)
        answer.headers["Zuora-Request-Id"] = secrets.token_hex(16)
        if "zuora-track-id" in headers:
            answer.headers["Zuora-Track-Id"] = headers["zuora-track-id"]
        if fault is not None and fault.mode == "lost_after_commit":
            return await _lost(fault, _response(answer))
        return _response(answer)

    set_faults = fault_switches_handler(faults)

    @post("/_emulator/expire-sessions", status_code=204)
    async def expire_sessions() -> None:
        face.tenant.expire_sessions()

    @post("/_emulator/operation-faults", status_code=201)
    async def arm_fault(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        try:
            return operation_faults.arm(data).as_dict()
        except (ValueError, TypeError) as error:
            raise ValidationException(str(error)) from None

    @get("/_emulator/operation-faults")
    async def armed_faults() -> list[dict[str, Any]]:
        return [fault.as_dict() for fault in operation_faults.armed]

    @delete("/_emulator/operation-faults", status_code=204)
    async def clear_faults() -> None:
        operation_faults.clear()

    @post("/_emulator/debit-in-flight", status_code=201)
    async def debit_in_flight(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        try:
            debit = start_debit(
                face.tenant,
                str(data["account"]),
                int(data["amount_minor"]),
                data.get("currency"),
                run_status=str(data.get("run_status", "Processing")),
            )
        except (KeyError, ValueError, TypeError) as error:
            raise ValidationException(f"account and amount_minor are required: {error}") from None
        except ZuoraError as error:
            raise ValidationException(error.message) from None
        keep()
        return {
            "payment_id": debit.payment_id,
            "payment_run_id": debit.payment_run_id,
            "payment_run_number": debit.payment_run_number,
        }

    @delete("/_emulator/debit-in-flight", status_code=200)
    async def debit_settled(account: FromQuery[str | None] = None) -> dict[str, int]:
        try:
            settled = settle_debits(face.tenant, account)
        except ZuoraError as error:
            raise ValidationException(error.message) from None
        keep()
        return {"settled": settled}

    app = Litestar(
        route_handlers=[
            soap,
            token,
            rest_api,
            expire_sessions,
            set_faults,
            arm_fault,
            armed_faults,
            clear_faults,
            debit_in_flight,
            debit_settled,
            *callout_handlers(lambda: callouts),
            *state_page_handlers(lambda: face.tenant),
        ],
        debug=False,
        logging_config=None,
    )
    app.state.tenant = face.tenant
    app.state.rest = rest
    app.state.soap = face
    app.state.operation_faults = operation_faults
    app.state.callouts = callouts
    return DropMarked(app)


async def _lost(fault: OperationFault, answer: Response[bytes]) -> Response[bytes]:
    """The change is committed; the client gets its answer too late, or not at all."""
    if fault.seconds > 0:
        await asyncio.sleep(fault.seconds)
        return answer
    answer.headers[DROP_HEADER] = "1"
    return answer


def _xml(body: bytes, status: int, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        body, status_code=status, media_type="text/xml; charset=utf-8", headers=headers or {}
    )


def _bare(status: int) -> Response[bytes]:
    return Response(b"Service Unavailable", status_code=status, media_type="text/plain")


def _too_many(wait: float, per_second: float) -> Response[bytes]:
    """Zuora's 429: its rate-limit headers, plus Retry-After for clients that read only it."""
    seconds = retry_after(wait)
    answer: Answer = as_json(
        {
            "success": False,
            "reasons": [{"code": 50000070, "message": "Too many requests: retry later."}],
        },
        429,
    )
    answer.headers.update(
        {
            "Retry-After": seconds,
            "ratelimit-limit": f"{per_second:g}",
            "ratelimit-remaining": "0",
            "ratelimit-reset": seconds,
        }
    )
    return _response(answer)


def _response(answer: Answer) -> Response[bytes]:
    return Response(
        answer.body,
        status_code=answer.status,
        media_type=answer.media_type,
        headers=answer.headers,
    )
