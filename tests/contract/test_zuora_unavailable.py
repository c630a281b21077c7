"""Zuora unavailable, over loopback, through both transports: a bare HTTP 503 (from the
emulator, or from a load balancer whose error page says it is XML, on which zeep itself fails
with AttributeError) is Zuora being unavailable: PROVIDER_UNAVAILABLE with Retry-After, never
an internal error; a refused create is retried and made once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from adapters.ports import AccountLookup, NewSepaMethod
from adapters.zuora.adapter import ZuoraAdapter
from adapters.zuora.emulator.app import SOAP_PATH, create_emulator
from adapters.zuora.emulator.seed import Customer, add_customer
from adapters.zuora.emulator.state import Tenant
from adapters.zuora.rest_session import RestConfig, ZuoraRest
from adapters.zuora.rest_transport import RestTransport
from adapters.zuora.soap_session import SoapConfig, ZuoraSoap
from adapters.zuora.soap_transport import SoapTransport
from gateway.core.errors import BillingError, ErrorCode
from tests.emulators import serve

PATIENCE = {"timeout_seconds": 2.0, "max_backoff_seconds": 0.01, "attempts": 3}
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@pytest.fixture(scope="module")
def tenant() -> Tenant:
    return Tenant()


@pytest.fixture(scope="module")
def base(tenant: Tenant) -> Iterator[str]:
    with serve(create_emulator(tenant)) as url:
        yield url


def adapter_for(transport: str, base: str, tenant: Tenant) -> ZuoraAdapter:
    if transport == "rest":
        rest = ZuoraRest(RestConfig(base, tenant.client_id, tenant.client_secret, **PATIENCE))
        return ZuoraAdapter(RestTransport(rest))
    config = SoapConfig(f"{base}{SOAP_PATH}", tenant.username, tenant.password, **PATIENCE)
    return ZuoraAdapter(SoapTransport(ZuoraSoap(config)))


@pytest.fixture(params=["soap", "rest"])
async def zuora(
    request: pytest.FixtureRequest, base: str, tenant: Tenant
) -> AsyncIterator[ZuoraAdapter]:
    adapter = adapter_for(request.param, base, tenant)
    yield adapter
    await adapter.close()


def fail_with_503(base: str, operation: str, times: int) -> None:
    answer = httpx.post(
        f"{base}/_emulator/operation-faults",
        json={"operation": operation, "mode": "fail", "times": times, "status": 503},
        timeout=5,
    )
    assert answer.status_code == 201, answer.text


def customer(tenant: Tenant) -> Customer:
    number = f"U{len(tenant.objects['Account']) + 1:08d}"
    return add_customer(tenant, account_number=number, name="A", iban="DE89370400440532013000")


def method(mandate: str) -> NewSepaMethod:
    return NewSepaMethod(
        iban="FR7630006000011234567890189",
        holder="Atelier Lumière SARL",
        email=None,
        mandate_id=mandate,
        mandate_signed_on=date(2026, 11, 23),
    )


def methods_of(tenant: Tenant, account_id: str) -> int:
    return sum(m["AccountId"] == account_id for m in tenant.objects["PaymentMethod"].values())


async def test_a_bare_503_is_retried_and_the_method_made_once(
    zuora: ZuoraAdapter, base: str, tenant: Tenant
) -> None:
    c = customer(tenant)
    fail_with_503(base, "create:PaymentMethod", times=1)
    made = await zuora.create_sepa_payment_method(
        c.account_id, method(f"U-{c.account_id[:8]}"), idempotency_key=f"u1:{c.account_id}"
    )
    assert made.mandate_id and methods_of(tenant, c.account_id) == 2


async def test_a_503_that_lasts_is_zuora_unavailable_with_retry_after(
    zuora: ZuoraAdapter, base: str, tenant: Tenant
) -> None:
    c = customer(tenant)
    fail_with_503(base, "create:PaymentMethod", times=10)
    try:
        with pytest.raises(BillingError) as down:
            await zuora.create_sepa_payment_method(
                c.account_id, method("U-DOWN"), idempotency_key=f"u2:{c.account_id}"
            )
    finally:
        async with httpx.AsyncClient() as client:
            await client.delete(f"{base}/_emulator/operation-faults", timeout=5)
    assert down.value.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert down.value.headers["Retry-After"].isdigit()
    assert methods_of(tenant, c.account_id) == 1  # nothing was made


def load_balancer(status: int, content_type: str, body: bytes) -> Any:
    """An ASGI app that answers every call as a load balancer in front of Zuora might."""

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        headers = [(b"content-type", content_type.encode()), (b"retry-after", b"7")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


PAGES = {
    "503 page that says it is XML": (503, "text/xml; charset=utf-8", b"<html>down</html>"),
    "502 XML that is not SOAP": (502, "application/xml", b"<?xml version='1.0'?><e>bad</e>"),
    "200 that is not SOAP": (200, "text/xml", b"<html>maintenance</html>"),
    "bare 503": (503, "text/plain", b"Service Unavailable"),
}


@pytest.mark.parametrize("transport", ["soap", "rest"])
@pytest.mark.parametrize("page", PAGES, ids=list(PAGES))
async def test_an_answer_that_is_not_zuoras_is_zuora_unavailable(transport: str, page: str) -> None:
    status, content_type, body = PAGES[page]
    tenant = Tenant()
    with serve(load_balancer(status, content_type, body)) as front:
        zuora = adapter_for(transport, front, tenant)
        try:
            with pytest.raises(BillingError) as down:
                await zuora.find_account(AccountLookup(number="A00000101"))
            with pytest.raises(BillingError) as write:
                await zuora.create_sepa_payment_method(
                    "2c92c0f8000000000000000000000000", method("U-LB"), idempotency_key="u3"
                )
        finally:
            await zuora.close()
    for error in (down.value, write.value):
        assert error.code is ErrorCode.PROVIDER_UNAVAILABLE, error.detail
        assert error.headers["Retry-After"].isdigit()
    if status == 503:
        assert down.value.headers["Retry-After"] == "7"  # the front's own, when it gives one
