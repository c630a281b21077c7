"""What the Apply drills share: the two emulators served by the test process (so that they
outlive a gateway killed with SIGKILL), each behind a recorder that counts the provider
operations the gateway sends and can hold one call until its caller dies; the real gateway
(`python -m gateway serve`, its job worker in the same process) pointed at them. No clock is
moved for a dead process: the drills wait as long as a real restart takes.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from schwifty import IBAN

from adapters.ports import AccountLookup, PaymentMethod
from adapters.serving import BackgroundServer
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.seed import seed_demo as seed_stripe
from adapters.stripe.emulator.state import API_KEY as STRIPE_KEY
from adapters.stripe.emulator.state import StripeAccount
from adapters.zuora.emulator.app import SOAP_PATH, create_emulator
from adapters.zuora.emulator.faults import rest_operation, soap_call
from adapters.zuora.emulator.seed import seat_tiers_of
from adapters.zuora.emulator.seed import seed_demo as seed_zuora
from adapters.zuora.emulator.state import Tenant
from gateway.providers import Providers, providers_from_settings
from settings import get_settings
from tests.database import auth
from tests.emulators import free_port

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Namer = Callable[[str, str, bytes], list[str]]

ZUORA_ACCOUNT, STRIPE_CUSTOMER = "A00000101", "cus_DemoAtelier01"
# The write each step of an IBAN change sends, as the emulators name their operations.
ZUORA_WRITES = {
    "create_sepa_method": "create:PaymentMethod",
    "set_default_method": "update:Account",
    "close_method": "update:PaymentMethod",
}
STRIPE_WRITES = {
    "create_sepa_method": "POST /v1/setup_intents",
    "set_default_method": "POST /v1/customers/*",
    "close_method": "POST /v1/payment_methods/*/detach",
}


def zuora_operations(method: str, path: str, body: bytes) -> list[str]:
    if path.startswith(SOAP_PATH):
        call, operations = soap_call(body)
        return operations or [f"soap:{call}"]
    return [rest_operation(method, path) or f"{method} {path}"]


def stripe_operations(face: Any) -> Namer:
    def name(method: str, path: str, _body: bytes) -> list[str]:
        return [str(face.operation_of(method, path.rstrip("/")))]

    return name


class Recorder:
    """An ASGI app in front of an emulator. It counts every provider operation it passes on
    (control endpoints excepted), and `hold(operation)` keeps the next such call from the
    emulator until its caller goes away, then drops it: the provider never saw it, as when
    the gateway dies before its request leaves the machine."""

    def __init__(self, app: Any, name: Namer) -> None:
        self.app = app
        self._name = name
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()  # of the answers the emulator gave
        self.limited: Counter[str] = Counter()  # operations refused for the rate
        self._holds: set[str] = set()
        self.held: list[str] = []  # operations held so far (the test waits on this)

    def hold(self, operation: str) -> None:
        with self._lock:
            self._holds.add(operation)

    def count(self, operation: str) -> int:
        with self._lock:
            return self.calls[operation]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.statuses.clear()
            self.limited.clear()
            self._holds.clear()
            self.held.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the caller went away before sending its request
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        names = self._name(str(scope["method"]), str(scope["path"]), body)
        with self._lock:
            held = next((name for name in names if name in self._holds), None)
            if held is not None:
                self._holds.discard(held)
                self.held.append(held)
            else:
                self.calls.update(names)
        if held is not None:
            while (await receive())["type"] != "http.disconnect":
                pass
            return  # dropped: the emulator never sees it
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def noted(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                # Zuora's SOAP face refuses a rate above the limit with a fault (HTTP 500)
                # carrying Retry-After; REST and Stripe answer 429.
                retry_after = any(
                    bytes(name).lower() == b"retry-after" for name, _ in message["headers"]
                )
                with self._lock:
                    self.statuses[status] += 1
                    if status == 429 or (status == 500 and retry_after):
                        self.limited.update(names)
            await send(message)

        await self.app(scope, replay, noted)


@dataclass
class Emulators:
    zuora: str
    stripe: str
    tenant: Tenant
    account: StripeAccount
    zuora_calls: Recorder
    stripe_calls: Recorder
    _servers: list[BackgroundServer] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """What points a gateway process at these emulators (and starts none of its own)."""
        return {
            "BG_ZUORA_SOAP_URL": f"{self.zuora}{SOAP_PATH}",
            "BG_ZUORA_USERNAME": self.tenant.username,
            "BG_ZUORA_PASSWORD": self.tenant.password,
            "BG_STRIPE_API_KEY": STRIPE_KEY,
            "BG_STRIPE_API_BASE": self.stripe,
        }

    def providers(self) -> Providers:
        """The gateway's own adapters, in the test process, aimed at these emulators."""
        settings = get_settings().model_copy(
            update={
                "zuora_soap_url": f"{self.zuora}{SOAP_PATH}",
                "zuora_username": self.tenant.username,
                "zuora_password": self.tenant.password,
                "stripe_api_key": STRIPE_KEY,
                "stripe_api_base": self.stripe,
            }
        )
        return providers_from_settings(settings)

    async def arm(self, provider: str, fault: dict[str, Any]) -> None:
        base = self.zuora if provider == "zuora" else self.stripe
        async with httpx.AsyncClient(timeout=5) as client:
            armed = await client.post(
                f"{base}/_emulator/operation-faults", json={"times": 1, **fault}
            )
        assert armed.status_code in (201, 204), armed.text

    async def switches(self, provider: str, **values: float) -> None:
        base = self.zuora if provider == "zuora" else self.stripe
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.post(f"{base}/_emulator/faults", json=values)
        assert answer.status_code == 204, answer.text

    def recorder(self, provider: str) -> Recorder:
        return self.zuora_calls if provider == "zuora" else self.stripe_calls


@contextmanager
def emulators() -> Iterator[Emulators]:
    """Fresh, seeded emulators on free loopback ports of the test process."""
    settings = get_settings()
    tenant = Tenant()
    seed_zuora(tenant, seat_tiers_of(settings.plan_tiers))
    account = StripeAccount()
    seed_stripe(account, settings.plan_tiers)
    stripe_app = create_stripe_emulator(account)
    zuora_calls = Recorder(create_emulator(tenant), zuora_operations)
    stripe_calls = Recorder(stripe_app, stripe_operations(stripe_app.state.face))
    zuora = BackgroundServer(zuora_calls, free_port()).start()
    stripe = BackgroundServer(stripe_calls, free_port()).start()
    try:
        yield Emulators(
            zuora.base, stripe.base, tenant, account, zuora_calls, stripe_calls, [zuora, stripe]
        )
    finally:
        zuora.stop()
        stripe.stop()


# -- the gateway, as a process that can be killed -------------------------------------------


class Gateway:
    """`python -m gateway serve` with its job worker in the same process, on a fixed port, so
    that a restart answers where the client already points."""

    def __init__(self, database_url: str, log_dir: Path, extra_env: dict[str, str]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._log_dir = log_dir
        self._base_env = self._env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "BG_RUN_WORKER_IN_PROCESS": "true",
            "BG_LOG_FORMAT": "json",
            **extra_env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self._log_dir / f"gateway-{self.starts}.log"

    def start(self) -> Gateway:
        self.starts += 1
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gateway", "serve", "--port", str(self.port)],
                env=self._env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/health/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the gateway did not start:\n{self.log.read_text()}")

    def restart(self, extra_env: dict[str, str]) -> None:
        """Stopped, then started again with these settings on top of the first ones (and none
        of an earlier restart's)."""
        self.stop()
        self._env = {**self._base_env, **extra_env}
        self.start()

    def kill(self) -> None:
        """SIGKILL: nothing after this instruction runs in the gateway, no shutdown at all."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


@contextmanager
def gateway(database_url: str, log_dir: Path, extra_env: dict[str, str]) -> Iterator[Gateway]:
    process = Gateway(database_url, log_dir, extra_env).start()
    try:
        yield process
    finally:
        process.stop()


# -- the change itself ----------------------------------------------------------------------


def ibans(count: int, seed: int = 14) -> list[str]:
    """Valid German IBANs (the bank's own check digits hold), no two ending alike: each
    change in a run gets its own, so that the masked last four tell them apart."""
    chooser, found, endings = random.Random(seed), list[str](), set[str]()
    while len(found) < count:
        iban = IBAN.generate("DE", bank_code="12030000", account_code=str(chooser.randrange(10**9)))
        try:
            IBAN(iban.compact, validate_bban=True)
        except ValueError:
            continue
        if iban.compact[-4:] not in endings:
            endings.add(iban.compact[-4:])
            found.append(iban.compact)
    return found


def atelier_iban_change(iban: str, customer: dict[str, str] | None = None) -> dict[str, Any]:
    """The demo's IBAN change, on Zuora and on the Stripe customer (or on `customer`'s
    Zuora account only)."""
    body: dict[str, Any] = {
        "kind": "iban_change",
        "ticket": {"system": "zendesk", "id": uuid.uuid4().hex[:12]},
        "customer": {
            "zuora_account_id": ZUORA_ACCOUNT,
            "stripe_customer_id": STRIPE_CUSTOMER,
            "backoffice_id": "shop-101",
            "company_name": "Atelier Lumière SARL",
        },
        "requester": {"name": "Camille", "email": "camille@example.com"},
        "contact_reasons": ["Billing > Payment method > Bank details change"],
        "payload": {
            "iban": iban,
            "account_holder": "Atelier Lumière SARL",
            "account_holder_email": "compta@atelier.example",
            "targets": ["zuora_collection", "stripe_customer_debit"],
        },
    }
    if customer is not None:
        body["customer"] = customer
        body["payload"]["targets"] = ["zuora_collection"]
    return body


async def file_request(
    client: httpx.AsyncClient, key: str, iban: str, customer: dict[str, str] | None = None
) -> str:
    answer = await client.post(
        "/v1/change-requests",
        json=atelier_iban_change(iban, customer),
        headers=auth(key, uuid.uuid4().hex),
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def wait_for_status(
    client: httpx.AsyncClient, key: str, request_id: str, wanted: set[str], seconds: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        answer = await client.get(f"/v1/change-requests/{request_id}", headers=auth(key))
        if answer.status_code == 200:
            body = answer.json()
            if body["status"] in wanted:
                return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"still {body.get('status')} after {seconds} s: {body.get('fulfilment')}")


async def wait_until(check: Callable[[], bool], seconds: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what or check}")
        await asyncio.sleep(0.02)


@dataclass(frozen=True)
class Holdings:
    """What one provider holds for the demo customer now."""

    methods: list[PaymentMethod]

    def with_iban(self, iban: str) -> list[PaymentMethod]:
        return [m for m in self.methods if (m.masked or "").endswith(iban[-4:])]

    def active_ids(self) -> set[str]:
        return {m.id for m in self.methods if m.active and m.kind != "card"}


async def holdings(providers: Providers, provider: str) -> Holdings:
    adapter = providers.get(provider)
    assert adapter is not None
    if provider == "zuora":
        found = await adapter.find_account(AccountLookup(number=ZUORA_ACCOUNT))
    else:
        found = await adapter.find_account(AccountLookup(id=STRIPE_CUSTOMER))
    return Holdings(list(await adapter.list_payment_methods(found.id)))


# -- the fixtures of the drill modules (a plugin of tests/conftest.py; a module takes `calm`
# -- with `pytestmark = pytest.mark.usefixtures("calm")`) ------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[Emulators]:
    with emulators() as running:
        yield running


@pytest.fixture(scope="module")
async def adapters(served: Emulators) -> AsyncIterator[Providers]:
    built = served.providers()
    yield built
    await built.close()


@pytest.fixture(scope="module")
def live(
    database_url: str, served: Emulators, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with gateway(database_url, tmp_path_factory.mktemp("drills"), served.env()) as process:
        yield process


@pytest.fixture
async def calm(served: Emulators) -> None:
    """No fault left over from the test before, and fresh counts."""
    async with httpx.AsyncClient(timeout=5) as client:
        for base in (served.zuora, served.stripe):
            await client.delete(f"{base}/_emulator/operation-faults")
    for provider in ("zuora", "stripe"):
        await served.switches(provider, latency_seconds=0, rate_limit_per_second=0)
    served.zuora_calls.reset()
    served.stripe_calls.reset()
