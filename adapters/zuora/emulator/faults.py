"""Faults per operation, on both faces of the emulator, so a test can stop a run at any step:

- `fail`: Zuora's refusal for that call (a SaveResult or AmendResult with Success false over
  SOAP, `success: false` with a reason over REST), or, with `status`, a bare HTTP error such as
  503; nothing changes.
- `slow`: waits `seconds`, then does the call.
- `lost_after_commit`: does the call (the change is committed), then the client gets no usable
  answer: the answer comes `seconds` late, or with `seconds` 0 the connection is dropped.

Operations are named `<call>:<object>` whichever face carries them (see OPERATIONS), and a rate
limit switch answers as Zuora does when a tenant sends too much.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from lxml import etree

from adapters.zuora.emulator.soap import API, NSMAP, SOAP_ENV, XSI

Mode = Literal["fail", "slow", "lost_after_commit"]
MODES: tuple[Mode, ...] = ("fail", "slow", "lost_after_commit")
# Operation -> how each face carries it.
OPERATIONS = {
    "create:PaymentMethod": "SOAP create PaymentMethod; REST POST /v1/payment-methods",
    "update:PaymentMethod": (
        "SOAP update PaymentMethod (closing it); REST PUT /v1/payment-methods/{id}"
    ),
    "delete:PaymentMethod": "SOAP delete PaymentMethod; REST DELETE /v1/payment-methods/{id}",
    "update:Account": "SOAP update Account (the default method); REST PUT /v1/accounts/{key}",
    "amend:Subscription": "SOAP amend; REST POST /v1/orders",
    "preview:Subscription": "SOAP amend in preview mode; REST POST /v1/orders/preview",
    "create:Refund": "SOAP create Refund; REST POST /v1/payments/{id}/refunds",
    "update:Invoice": (
        "SOAP update Invoice (its Status); REST PUT /v1/invoices/{key}/unpost and /cancel"
    ),
}
DROP_HEADER = "x-emulator-drop-connection"  # set by a handler, consumed by `drop_marked`


@dataclass
class OperationFault:
    operation: str
    mode: Mode
    times: int = 1
    seconds: float = 5.0
    code: str = "INVALID_VALUE"  # the Zuora error code a `fail` answers with
    message: str = "The operation was refused (emulated fault)."
    status: int | None = None  # `fail` with a bare HTTP status (e.g. 503) instead

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "mode": self.mode,
            "times": self.times,
            "seconds": self.seconds,
            "code": self.code,
            "status": self.status,
        }


class OperationFaults:
    def __init__(self) -> None:
        self.armed: list[OperationFault] = []

    def arm(self, spec: dict[str, Any]) -> OperationFault:
        """A fault from the control endpoint's JSON; ValueError names what is wrong."""
        unknown = set(spec) - {"operation", "mode", "times", "seconds", "code", "message", "status"}
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        operation, mode = spec.get("operation"), spec.get("mode")
        if operation not in OPERATIONS:
            raise ValueError(f"operation must be one of {sorted(OPERATIONS)}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {list(MODES)}")
        times, seconds = int(spec.get("times", 1)), float(spec.get("seconds", 5))
        if times < 1 or seconds < 0:
            raise ValueError("times must be at least 1 and seconds at least 0")
        status = spec.get("status")
        if status is not None and not 400 <= int(status) <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        fault = OperationFault(
            operation,
            mode,
            times,
            seconds,
            str(spec.get("code") or "INVALID_VALUE"),
            str(spec.get("message") or OperationFault.message),
            None if status is None else int(status),
        )
        self.armed.append(fault)
        return fault

    def clear(self) -> None:
        self.armed.clear()

    def take(self, operations: list[str]) -> OperationFault | None:
        """The first armed fault for one of `operations`, counted down."""
        for fault in self.armed:
            if fault.operation in operations:
                fault.times -= 1
                if fault.times <= 0:
                    self.armed.remove(fault)
                return fault
        return None


# -- which operation a request is ---------------------------------------------------------------


def rest_operation(method: str, path: str) -> str | None:
    parts = path.rstrip("/").split("/")[2:]  # after "/v1"
    match method, parts:
        case "POST", ["payment-methods"]:
            return "create:PaymentMethod"
        case "PUT", ["payment-methods", _]:
            return "update:PaymentMethod"
        case "DELETE", ["payment-methods", _]:
            return "delete:PaymentMethod"
        case "PUT", ["accounts", _]:
            return "update:Account"
        case "POST", ["orders"]:
            return "amend:Subscription"
        case "POST", ["orders", "preview"]:
            return "preview:Subscription"
        case "POST", ["payments", _, "refunds"]:
            return "create:Refund"
        case "PUT", ["invoices", _, "unpost" | "cancel"]:
            return "update:Invoice"
    return None


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def soap_call(body: bytes) -> tuple[str, list[str]]:
    """The SOAP call's name and the operations it carries."""
    try:
        envelope = etree.fromstring(body)
    except etree.XMLSyntaxError:
        return "", []
    call_body = envelope.find(f"{{{SOAP_ENV}}}Body")
    if call_body is None or len(call_body) == 0:
        return "", []
    call = call_body[0]
    name = _local(call)
    if name in ("create", "update"):
        kinds = {
            element.get(f"{{{XSI}}}type", "").split(":")[-1]
            for element in call.findall(f"{{{API}}}zObjects")
        }
        return name, [f"{name}:{kind}" for kind in sorted(kinds)]
    if name == "delete":
        return name, [f"delete:{call.findtext(f'{{{API}}}type') or ''}"]
    if name == "amend":
        previews = {
            (request.findtext(f".//{{{API}}}EnablePreviewMode") or "").lower() == "true"
            for request in call.findall(f"{{{API}}}requests")
        }
        return name, [
            "preview:Subscription" if preview else "amend:Subscription" for preview in previews
        ]
    return name, []


def soap_refusal(body: bytes, fault: OperationFault) -> bytes:
    """The call's own answer with every object refused, as Zuora answers a rule it enforces."""
    call_name, _ = soap_call(body)
    call = etree.fromstring(body).find(f"{{{SOAP_ENV}}}Body")[0]
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=NSMAP)
    response = etree.SubElement(
        etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body"), f"{{{API}}}{call_name}Response"
    )
    items = {
        "create": ("zObjects", "result", "Errors", "Success"),
        "update": ("zObjects", "result", "Errors", "Success"),
        "delete": ("ids", "result", "errors", "success"),
        "amend": ("requests", "results", "Errors", "Success"),
    }
    each, result_tag, errors_tag, success_tag = items[call_name]
    for _item in call.findall(f"{{{API}}}{each}"):
        result = etree.SubElement(response, f"{{{API}}}{result_tag}")
        errors = etree.SubElement(result, f"{{{API}}}{errors_tag}")
        etree.SubElement(errors, f"{{{API}}}Code").text = fault.code
        etree.SubElement(errors, f"{{{API}}}Message").text = fault.message
        etree.SubElement(result, f"{{{API}}}{success_tag}").text = "false"
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


# -- the rate limit ---------------------------------------------------------------------------


class RateLimit:
    """A token bucket of `per_second` tokens refilled continuously: a client that paces itself
    at the same rate (e.g. with aiolimiter) is never refused. One token more than the rate
    absorbs calls that the network delivers a moment closer together than they were sent."""

    def __init__(self) -> None:
        self._tokens = 0.0
        self._rate = 0.0
        self._at = time.monotonic()

    def wait_seconds(self, per_second: float) -> float:
        """0 if this call may go through (and counts it), else how long until one may."""
        now = time.monotonic()
        capacity = per_second + 1
        if per_second != self._rate:
            self._rate, self._tokens = per_second, capacity
        self._tokens = min(capacity, self._tokens + (now - self._at) * per_second)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / per_second


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


# -- dropping the connection ------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


class ConnectionDroppedError(Exception):
    """Raised after the answer has started, so that the server closes the connection."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDroppedError))


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


class DropMarked:
    """An ASGI app in front of the emulator's: an answer carrying DROP_HEADER starts, then the
    connection closes without its body, as when a network fails after the server committed the
    change. `state` is the inner app's (tests reach the tenant through it)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        dropping = False

        async def guarded(message: Message) -> None:
            nonlocal dropping
            if message["type"] == "http.response.start":
                given = list(message.get("headers", []))
                kept = [(k, v) for k, v in given if bytes(k).lower() != DROP_HEADER.encode()]
                dropping = len(kept) != len(given)
                message = {**message, "headers": kept}
            elif dropping and message["type"] == "http.response.body":
                raise ConnectionDroppedError
            await send(message)

        await self.app(scope, receive, guarded)
