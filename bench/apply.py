"""Apply: the same IBAN change through the gateway beside the bare SDK call sequence, then many
applies at once against providers that enforce a rate limit.

Serves both emulators in a process of their own (loopback HTTP, every call 50 ms late, as a
provider across a network is), starts the real gateway (`billing-gateway serve`, its job
worker in the same process) on a fresh database, then:
1. one change at a time, alternating, each side on customers of its own:
   - gateway: `POST /v1/change-requests/{id}/apply` (filed beforehand), then `GET` every 20 ms
     until `applied`; the gateway's CPU per change from /proc (less the CPU of the polls,
     measured apart);
   - bare: what a script does with the SDKs alone, the same writes the adapters send and the
     reads it needs to know what to replace: zeep (query the account, create the SEPA method,
     make it the default, close the old one) and stripe-python (retrieve the customer, a
     confirmed SetupIntent with the mandate, the invoice default, detach the old method).
   Target: the gateway adds at most 10 % wall time.
2. N applies at once (filed beforehand) while the emulators answer 429 above their limit
   (Zuora 20, Stripe 25 calls a second, the gateway told the same): how long until every run
   finished, beside the time the limits allow for the calls one change needs (as counted in
   1) times N; the calls really made; and the 429s (Zuora's SOAP face answers a fault with
   Retry-After instead of 429; it counts as one).
   Target: within 10 % of the allowed time, no storm of 429s. An apply answered 503 is sent
   again after its Retry-After, as a support tool would.

    make bench      # or: .venv/bin/python bench/apply.py --changes 20 --bulk 1000
Targets as ratios (design: performance.md): gateway p50 / bare p50 <= 1.10; the bulk's time /
the time the limits allow <= 1.10, no 429, no failed run. Exits non-zero when one is missed;
bench/results/apply.json keeps the last runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from intake import random_iban
from kit import ROOT, Bound, Ratio, drop_database, finish, free_port, prepare_database, report

__all__ = ["free_port", "prepare_database"]  # scale.py and cheques.py import them from here
LATENCY_SECONDS = 0.05
LIMITS = {"zuora": 20.0, "stripe": 25.0}  # calls a second (Stripe's test mode allows 25)
OLD_IBAN = "DE89370400440532013000"
TARGET_ADDED = 0.10
TARGET_BULK = 0.10


def zuora_number(number: int) -> str:
    return f"B{number:08d}"


def stripe_id(number: int) -> str:
    return f"cus_Bench{number:06d}"


# -- the emulators, in a process of their own ----------------------------------------------


class Counted:
    """An emulator behind a counter of the answers it gave (and when it answered 429):
    `GET /_bench/calls`, `POST /_bench/reset`."""

    def __init__(self, app: Any, name: Any) -> None:
        self.app = app
        self._name = name  # (method, path, body) -> the operation's name
        self.statuses: Counter[int] = Counter()
        self.operations: Counter[str] = Counter()
        self.limited_at: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/_bench/"):
            if scope["path"] == "/_bench/reset":
                self.statuses.clear()
                self.operations.clear()
                self.limited_at.clear()
            body = json.dumps(
                {
                    "statuses": dict(self.statuses),
                    "operations": dict(self.operations),
                    "limited_at": self.limited_at,
                }
            ).encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return

        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        operation = self._name(scope["method"], scope["path"].rstrip("/"), body)
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def counted(message: Any) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                # Zuora's SOAP face refuses a rate above the limit with a fault (HTTP 500)
                # carrying Retry-After; REST and Stripe answer 429.
                retry_after = any(k.lower() == b"retry-after" for k, _ in message["headers"])
                if status == 429 or (status == 500 and retry_after):
                    status = 429
                    self.limited_at.append(time.time())
                else:
                    self.operations[operation] += 1
                self.statuses[status] += 1
            await send(message)

        await self.app(scope, replay, counted)


def serve_emulators(zuora_port: int, stripe_port: int, customers: int) -> None:
    import uvicorn

    from adapters.stripe.emulator.app import create_stripe_emulator
    from adapters.stripe.emulator.seed import add_customer as add_stripe_customer
    from adapters.stripe.emulator.seed import seed_demo as seed_stripe
    from adapters.stripe.emulator.state import StripeAccount
    from adapters.zuora.emulator.app import SOAP_PATH, create_emulator
    from adapters.zuora.emulator.faults import soap_call
    from adapters.zuora.emulator.seed import add_customer as add_zuora_customer
    from adapters.zuora.emulator.seed import seat_tiers_of
    from adapters.zuora.emulator.seed import seed_demo as seed_zuora
    from adapters.zuora.emulator.state import Tenant
    from settings import get_settings

    tiers = get_settings().plan_tiers
    tenant, account = Tenant(), StripeAccount()
    seed_zuora(tenant, seat_tiers_of(tiers))
    seed_stripe(account, tiers)
    for number in range(1, customers + 1):
        name = f"Bench Customer {number}"
        add_zuora_customer(tenant, account_number=zuora_number(number), name=name, iban=OLD_IBAN)
        add_stripe_customer(account, stripe_id(number), name, f"bench-{number}", OLD_IBAN)

    def zuora_operation(method: str, path: str, body: bytes) -> str:
        if path.startswith(SOAP_PATH):
            call, operations = soap_call(body)
            return "+".join(operations) or f"SOAP {call}"
        return f"{method} {path}"

    stripe_app = create_stripe_emulator(account)

    def stripe_operation(method: str, path: str, _body: bytes) -> str:
        return str(stripe_app.state.face.operation_of(method, path))

    def server(app: Any, port: int) -> uvicorn.Server:
        config = uvicorn.Config(app, port=port, log_config=None, access_log=False, lifespan="off")
        return uvicorn.Server(config)

    async def both() -> None:
        await asyncio.gather(
            server(Counted(create_emulator(tenant), zuora_operation), zuora_port).serve(),
            server(Counted(stripe_app, stripe_operation), stripe_port).serve(),
        )

    asyncio.run(both())


def start_emulators(customers: int) -> tuple[subprocess.Popen[bytes], str, str]:
    zuora_port, stripe_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve-emulators",
            f"{zuora_port},{stripe_port},{customers}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    zuora, stripe = f"http://127.0.0.1:{zuora_port}", f"http://127.0.0.1:{stripe_port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{zuora}/_bench/calls", timeout=1)
            httpx.get(f"{stripe}/_bench/calls", timeout=1)
            return process, zuora, stripe
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the emulators did not start")


async def switches(base: str, **values: float) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(f"{base}/_emulator/faults", json=values)
        answer.raise_for_status()


async def emulator_calls(base: str, reset: bool = False) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(f"{base}/_bench/reset") if reset else None
        answer = await client.get(f"{base}/_bench/calls")
        return dict(answer.json())


# -- the gateway ----------------------------------------------------------------------------


def start_gateway(
    url: str, zuora: str, stripe: str, calls_per_second: dict[str, float] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """The gateway against the emulators, pacing its provider calls at `calls_per_second`
    (the emulators' limits by default)."""
    from adapters.stripe.emulator.state import API_KEY
    from adapters.zuora.emulator.app import SOAP_PATH
    from adapters.zuora.emulator.state import Tenant

    credentials = Tenant()
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "BG_LOG_LEVEL": "WARNING",
        "BG_LOG_FORMAT": "json",
        "BG_RATE_LIMIT_PER_MINUTE": "10000000",
        "BG_RUN_WORKER_IN_PROCESS": "true",
        "BG_ZUORA_SOAP_URL": f"{zuora}{SOAP_PATH}",
        "BG_ZUORA_USERNAME": credentials.username,
        "BG_ZUORA_PASSWORD": credentials.password,
        "BG_STRIPE_API_KEY": API_KEY,
        "BG_STRIPE_API_BASE": stripe,
        "BG_PROVIDER_CALLS_PER_SECOND": json.dumps(calls_per_second or LIMITS),
        "BG_REVIEW_SAMPLE_PERCENT": "0",
        # free ports for any sandbox emulator it serves: another run may hold the defaults
        "BG_ZUORA_EMULATOR_PORT": str(free_port()),
        "BG_STRIPE_EMULATOR_PORT": str(free_port()),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
        env=environment,
        cwd=ROOT,  # `-m` puts the working directory first: bench/audit.py would hide `audit`
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the gateway did not start")


def cpu_seconds(pid: int) -> float:
    """User and system CPU of one process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def headers(key: str, idempotency: bool = True) -> dict[str, str]:
    sent = {"Authorization": f"Bearer {key}"}
    if idempotency:
        sent["Idempotency-Key"] = uuid.uuid4().hex
    return sent


def request_body(number: int) -> dict[str, Any]:
    name = f"Bench Customer {number}"
    return {
        "kind": "iban_change",
        "ticket": {"system": "zendesk", "id": f"bench{uuid.uuid4().hex[:12]}"},
        "customer": {
            "zuora_account_id": zuora_number(number),
            "stripe_customer_id": stripe_id(number),
            "backoffice_id": f"bench-{number}",
        },
        "requester": {"name": "Bench"},
        "contact_reasons": ["Billing > Payment method > Bank details change"],
        "payload": {
            "iban": random_iban(),
            "account_holder": name,
            "account_holder_email": f"billing@bench-{number}.example",
            "targets": ["zuora_collection", "stripe_customer_debit"],
        },
    }


async def file_requests(client: httpx.AsyncClient, key: str, numbers: list[int]) -> list[str]:
    ids = []
    for number in numbers:
        answer = await client.post(
            "/v1/change-requests", json=request_body(number), headers=headers(key)
        )
        if answer.status_code != 201:
            raise SystemExit(f"filing failed: {answer.status_code} {answer.text[:300]}")
        ids.append(str(answer.json()["id"]))
    return ids


# -- the bare SDK sequence --------------------------------------------------------------------


class Bare:
    """The change as a script makes it with zeep and stripe-python alone."""

    def __init__(self, zuora: str, stripe_base: str) -> None:
        import stripe

        from adapters.stripe.client import API_VERSION
        from adapters.stripe.emulator.state import API_KEY
        from adapters.zuora.emulator.app import SOAP_PATH
        from adapters.zuora.emulator.state import Tenant
        from adapters.zuora.soap_session import SoapConfig, ZuoraSoap

        credentials = Tenant()
        self.soap = ZuoraSoap(
            SoapConfig(f"{zuora}{SOAP_PATH}", credentials.username, credentials.password)
        )
        stripe.enable_telemetry = False
        self.http = stripe.HTTPXClient(allow_sync_methods=False)
        self.stripe = stripe.StripeClient(
            API_KEY,
            base_addresses={"api": stripe_base},
            http_client=self.http,
            max_network_retries=0,
            stripe_version=API_VERSION,
        )

    async def sign_in(self) -> None:
        await self.soap._sign_in()

    def _session(self) -> dict[str, Any]:
        return {"SessionHeader": {"session": self.soap._session}}

    async def change(self, number: int) -> None:
        iban, name = random_iban(), f"Bench Customer {number}"
        email = f"billing@bench-{number}.example"
        service = self.soap._service
        found = await service.query(
            queryString="select Id, DefaultPaymentMethodId from Account"
            f" where AccountNumber = '{zuora_number(number)}'",
            _soapheaders=self._session(),
        )
        account = found.records[0]
        method = self.soap.make(
            "PaymentMethod",
            AccountId=account.Id,
            Type="BankTransfer",
            BankTransferType="SEPA",
            IBAN=iban,
            BankTransferAccountName=name,
            Email=email,
            MandateID=f"BARE-{number}",
        )
        [created] = await service.create(zObjects=[method], _soapheaders=self._session())
        default = self.soap.make("Account", Id=account.Id, DefaultPaymentMethodId=created.Id)
        await service.update(zObjects=[default], _soapheaders=self._session())
        closed = self.soap.make(
            "PaymentMethod", Id=account.DefaultPaymentMethodId, PaymentMethodStatus="Closed"
        )
        await service.update(zObjects=[closed], _soapheaders=self._session())

        customer = await self.stripe.v1.customers.retrieve_async(stripe_id(number))
        old = customer.invoice_settings.default_payment_method  # type: ignore[union-attr]
        intent = await self.stripe.v1.setup_intents.create_async(
            params={
                "customer": stripe_id(number),
                "payment_method_data": {
                    "type": "sepa_debit",
                    "sepa_debit": {"iban": iban},
                    "billing_details": {"name": name, "email": email},
                },
                "mandate_data": {
                    "customer_acceptance": {"type": "offline", "accepted_at": int(time.time())}
                },
                "confirm": True,
                "usage": "off_session",
            },
            options={"idempotency_key": uuid.uuid4().hex},
        )
        await self.stripe.v1.customers.update_async(
            stripe_id(number),
            params={"invoice_settings": {"default_payment_method": str(intent.payment_method)}},
            options={"idempotency_key": uuid.uuid4().hex},
        )
        await self.stripe.v1.payment_methods.detach_async(
            str(old), options={"idempotency_key": uuid.uuid4().hex}
        )

    async def close(self) -> None:
        await self.soap.close()
        await self.http.close_async()  # type: ignore[no-untyped-call]


# -- 1. one change at a time --------------------------------------------------------------------


async def applied(
    client: httpx.AsyncClient, key: str, request_id: str, every: float = 0.02
) -> tuple[str, int]:
    polls = 0
    while True:
        answer = await client.get(f"/v1/change-requests/{request_id}", headers=headers(key, False))
        polls += 1
        status = str(answer.json()["status"])
        if status in ("applied", "apply_failed"):
            return status, polls
        await asyncio.sleep(every)


async def one_at_a_time(
    base: str, key: str, pid: int, zuora: str, stripe: str, changes: int
) -> dict[str, Any]:
    bare = Bare(zuora, stripe)
    await bare.sign_in()
    gateway_numbers = list(range(1, changes + 2))  # the first is a warm-up
    bare_numbers = list(range(changes + 2, 2 * changes + 3))
    walls: dict[str, list[float]] = {"gateway": [], "bare": []}
    calls: dict[str, list[int]] = {"gateway": [], "bare": []}
    cpu = {"gateway": 0.0, "bare": 0.0}
    operations: dict[str, Counter[str]] = {"gateway": Counter(), "bare": Counter()}
    polls = 0
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await switches(zuora, latency_seconds=0)
        await switches(stripe, latency_seconds=0)
        request_ids = await file_requests(client, key, gateway_numbers)
        # the CPU one poll costs the gateway, measured apart and taken off below
        before = cpu_seconds(pid)
        for _ in range(200):
            await client.get(f"/v1/change-requests/{request_ids[0]}", headers=headers(key, False))
        poll_cpu = (cpu_seconds(pid) - before) / 200
        for base_url in (zuora, stripe):
            await switches(base_url, latency_seconds=LATENCY_SECONDS)
        for index in range(changes + 1):
            for side in ("bare", "gateway"):
                counts = [await emulator_calls(b, reset=True) for b in (zuora, stripe)]
                started_cpu = time.process_time() if side == "bare" else cpu_seconds(pid)
                started = time.perf_counter()
                if side == "bare":
                    await bare.change(bare_numbers[index])
                else:
                    answer = await client.post(
                        f"/v1/change-requests/{request_ids[index]}/apply",
                        json={},
                        headers=headers(key),
                    )
                    if answer.status_code != 202:
                        raise SystemExit(f"apply: {answer.status_code} {answer.text[:300]}")
                    status, polled = await applied(client, key, request_ids[index])
                    if status != "applied":
                        raise SystemExit(f"the run ended {status}")
                wall = time.perf_counter() - started
                spent = (time.process_time() if side == "bare" else cpu_seconds(pid)) - started_cpu
                counts = [await emulator_calls(b) for b in (zuora, stripe)]
                if index == 0:
                    continue  # warm-up: connections, sessions, caches
                walls[side].append(wall)
                calls[side].append(sum(sum(c["statuses"].values()) for c in counts))
                for provider, counted in zip(("zuora", "stripe"), counts, strict=True):
                    for operation, n in counted["operations"].items():
                        operations[side][f"{provider} {operation}"] += n
                if side == "gateway":
                    polls += polled
                    spent -= polled * poll_cpu
                cpu[side] += spent
    await bare.close()
    figures: dict[str, Any] = {}
    for side in ("bare", "gateway"):
        figures[side] = {
            "p50_ms": round(statistics.median(walls[side]) * 1000, 1),
            "mean_ms": round(statistics.fmean(walls[side]) * 1000, 1),
            "calls_per_change": round(statistics.fmean(calls[side]), 1),
            "cpu_ms_per_change": round(cpu[side] / changes * 1000, 1),
            "calls_by_operation": {
                name: round(n / changes, 1) for name, n in sorted(operations[side].items())
            },
        }
    added = figures["gateway"]["p50_ms"] / figures["bare"]["p50_ms"] - 1
    figures["added_wall"] = round(added, 3)
    figures["poll_cpu_ms"] = round(poll_cpu * 1000, 2)
    figures["polls_per_change"] = round(polls / changes, 1)
    figures["changes"] = changes
    return figures


# -- 2. many applies at once under the providers' rate limits --------------------------------


async def many_at_once(
    base: str,
    key: str,
    zuora: str,
    stripe: str,
    first: int,
    count: int,
    url: str,
    needed: dict[str, float],
) -> dict[str, Any]:
    """`needed`: the calls one change makes at each provider, measured one at a time; the
    time the limits allow is that many calls for every change, at each provider's limit."""
    import asyncpg

    numbers = list(range(first, first + count))
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=base, timeout=300, limits=limits) as client:
        for base_url in (zuora, stripe):
            await switches(base_url, latency_seconds=0, rate_limit_per_second=0)
        request_ids = await file_requests(client, key, numbers)
        await switches(
            zuora, latency_seconds=LATENCY_SECONDS, rate_limit_per_second=LIMITS["zuora"]
        )
        await switches(
            stripe, latency_seconds=LATENCY_SECONDS, rate_limit_per_second=LIMITS["stripe"]
        )
        for base_url in (zuora, stripe):
            await emulator_calls(base_url, reset=True)
        database = await asyncpg.connect(url)
        started_at: datetime = await database.fetchval("SELECT clock_timestamp()")
        answers: Counter[int] = Counter()
        retried = 0

        async def apply(request_id: str) -> None:
            nonlocal retried
            for _ in range(20):
                answer = await client.post(
                    f"/v1/change-requests/{request_id}/apply", json={}, headers=headers(key)
                )
                answers[answer.status_code] += 1
                if answer.status_code != 503:
                    return
                retried += 1
                await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))

        appliers = asyncio.gather(*(apply(request_id) for request_id in request_ids))
        while True:
            await asyncio.sleep(0.5)
            rows = await database.fetch(
                "SELECT status, count(*) AS n, max(finished_at) AS last FROM fulfilment_runs"
                " WHERE change_request_id = ANY($1::uuid[]) GROUP BY status",
                request_ids,
            )
            by_status = {row["status"]: row["n"] for row in rows}
            finished = by_status.get("succeeded", 0) + by_status.get("failed", 0)
            if appliers.done() and finished >= sum(by_status.values()):
                break
        await appliers
        last = max((row["last"] for row in rows if row["last"] is not None), default=None)
        await database.close()
    elapsed = (last - started_at).total_seconds() if last else float("nan")
    provider_figures = {}
    allowed = 0.0
    for name, base_url in (("zuora", zuora), ("stripe", stripe)):
        counted = await emulator_calls(base_url)
        statuses = {int(code): n for code, n in counted["statuses"].items()}
        accepted = sum(n for code, n in statuses.items() if code != 429)
        limited = sorted(counted["limited_at"])
        worst = max(
            (sum(1 for t in limited if s <= t < s + 1) for s in limited),
            default=0,
        )
        provider_figures[name] = {
            "calls": accepted,
            "calls_per_change": round(accepted / count, 1),
            "calls_one_change_needs": needed[name],
            "limit_per_s": LIMITS[name],
            "seconds_the_limit_allows": round(needed[name] * count / LIMITS[name], 1),
            "429s": statuses.get(429, 0),
            "most_429s_in_one_second": worst,
        }
        allowed = max(allowed, needed[name] * count / LIMITS[name])
    return {
        "applies": count,
        "answers": {str(code): n for code, n in sorted(answers.items())},
        "applies_sent_again_after_503": retried,
        "runs": by_status,
        "elapsed_s": round(elapsed, 1),
        "allowed_s": round(allowed, 1),
        "ratio": round(elapsed / allowed, 3) if allowed else None,
        "providers": provider_figures,
    }


# -- the run ----------------------------------------------------------------------------------


def show(figures: dict[str, Any]) -> list[Ratio | Bound]:
    """Print the detail; the checks on it."""
    single = figures["one_at_a_time"]
    print(
        f"\nOne IBAN change (Zuora + Stripe), {single['changes']} per side,"
        f" {LATENCY_SECONDS * 1000:.0f} ms a provider call"
    )
    print(f"  {'side':8} {'p50 ms':>8} {'mean ms':>8} {'calls':>6} {'CPU ms':>7}")
    for side in ("bare", "gateway"):
        row = single[side]
        print(
            f"  {side:8} {row['p50_ms']:8.1f} {row['mean_ms']:8.1f}"
            f" {row['calls_per_change']:6.1f} {row['cpu_ms_per_change']:7.1f}"
        )
    print("  provider calls a change, by operation (bare | gateway):")
    names = sorted(
        {*single["bare"]["calls_by_operation"], *single["gateway"]["calls_by_operation"]}
    )
    for name in names:
        print(
            f"    {name:48} {single['bare']['calls_by_operation'].get(name, 0):5.1f}"
            f" {single['gateway']['calls_by_operation'].get(name, 0):5.1f}"
        )
    print(
        f"  the gateway adds {single['added_wall'] * 100:.1f} % wall time;"
        f" gateway CPU net of {single['polls_per_change']} polls a change"
        f" ({single['poll_cpu_ms']} ms each)"
    )
    checks: list[Ratio | Bound] = [
        Ratio(
            "one IBAN change through the gateway, p50 wall ms",
            single["gateway"]["p50_ms"],
            "bare zeep + stripe-python sequence, p50 wall ms",
            single["bare"]["p50_ms"],
            at_most=1 + TARGET_ADDED,
        )
    ]
    bulk = figures.get("many_at_once")
    if bulk:
        print(
            f"\n{bulk['applies']} applies at once, limits Zuora {LIMITS['zuora']:.0f}/s,"
            f" Stripe {LIMITS['stripe']:.0f}/s"
        )
        print(f"  apply answers {bulk['answers']}, runs {bulk['runs']}")
        print(
            f"  {'provider':8} {'calls':>6} {'a change':>8} {'needs':>6} {'allowed s':>9}"
            f" {'429s':>6} {'worst s':>7}"
        )
        for name, row in bulk["providers"].items():
            print(
                f"  {name:8} {row['calls']:6d} {row['calls_per_change']:8.1f}"
                f" {row['calls_one_change_needs']:6.1f} {row['seconds_the_limit_allows']:9.1f}"
                f" {row['429s']:6d} {row['most_429s_in_one_second']:7d}"
            )
        print(f"  every run finished in {bulk['elapsed_s']} s; limits allow {bulk['allowed_s']} s")
        storms = sum(row["429s"] for row in bulk["providers"].values())
        checks += [
            Ratio(
                f"{bulk['applies']} applies at once, s until every run finished",
                bulk["elapsed_s"],
                "the time the providers' limits allow, s",
                bulk["allowed_s"],
                at_most=1 + TARGET_BULK,
            ),
            Bound("bulk applies, 429s from the providers", storms, "answers", at_most=0),
            Bound("bulk applies, failed runs", bulk["runs"].get("failed", 0), "runs", at_most=0),
        ]
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--changes", type=int, default=20, help="changes per side, one at a time")
    parser.add_argument(
        "--bulk",
        type=int,
        default=200,
        help="applies at once (0: skip); 1,000 take about 20 minutes at these limits",
    )
    parser.add_argument("--serve-emulators", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve_emulators:
        zuora_port, stripe_port, customers = map(int, arguments.serve_emulators.split(","))
        serve_emulators(zuora_port, stripe_port, customers)
        return
    customers = 2 * arguments.changes + 3 + arguments.bulk
    emulators, zuora, stripe = start_emulators(customers)
    server_url, url, key = asyncio.run(prepare_database())
    gateway, base = start_gateway(url, zuora, stripe)
    figures: dict[str, Any] = {"at": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        figures["one_at_a_time"] = asyncio.run(
            one_at_a_time(base, key, gateway.pid, zuora, stripe, arguments.changes)
        )
        if arguments.bulk:
            first = 2 * arguments.changes + 3
            by_operation = figures["one_at_a_time"]["gateway"]["calls_by_operation"]
            needed = {
                provider: round(
                    sum(n for name, n in by_operation.items() if name.startswith(provider)), 1
                )
                for provider in LIMITS
            }
            figures["many_at_once"] = asyncio.run(
                many_at_once(base, key, zuora, stripe, first, arguments.bulk, url, needed)
            )
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)
        emulators.terminate()
        emulators.wait(timeout=30)
        asyncio.run(drop_database(server_url, url))
    finish(report("apply", show(figures), figures))


if __name__ == "__main__":
    main()
