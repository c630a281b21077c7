"""The compose stack's processes, run here as compose.yaml runs them: `migrate`, then two
`serve` and two `worker`, each with exactly its service's `command` and `environment` (the
x-gateway anchor resolved, `${VAR:-default}` filled from the values an operator's `.env` would
give), on a fresh database of the test PostgreSQL, with secrets written by
deploy/make-secrets.py into a temporary BG_SECRETS_DIR. An IBAN change is filed through
api-1 and applied through api-2 against slowed providers; while a worker carries it out, every
process gets SIGTERM (`docker compose stop`) and must exit 0 within the stack's
stop_grace_period. Started again with the same commands (`docker compose start`), the stack
ends with the change applied exactly once at each provider, its audit entries all sealed and
no job left running; a second SIGTERM, all at rest, again exits 0 everywhere.

What differs from compose, because five processes share one machine here: `--host 0.0.0.0`
becomes 127.0.0.1 and `--port 8000` a free port per API process; BG_WORKER_METRICS_PORT a
free port per worker; PROMETHEUS_MULTIPROC_DIR (a tmpfs per container) a directory per
process; BG_SECRETS_DIR (/run/secrets) the temporary directory. The database URL secrets are
rewritten for the test server (roles of this test's own, as `create_roles` makes them), and the
providers are the emulators, started by this test, in production mode: Zuora's SOAP URL and
Stripe's API base point at them, with their credentials as the provider secrets.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import yaml

from adapters.serving import BackgroundServer
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.seed import seed_demo as seed_stripe
from adapters.stripe.emulator.state import StripeAccount
from adapters.zuora.emulator.app import SOAP_PATH, create_emulator
from adapters.zuora.emulator.seed import seed_demo as seed_zuora
from adapters.zuora.emulator.state import Tenant
from gateway.core.db.roles import create_roles, with_user
from gateway.core.db.server import with_database
from settings.model import DEFAULT_PLAN_TIERS
from tests import drills
from tests.emulators import free_port

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = str(Path(sys.executable).parent / "billing-gateway")
STACK = ("migrate", "api-1", "api-2", "worker-1", "worker-2")
PROVIDER_LATENCY_SECONDS = 1.5
NEW_IBAN = "FR7630006000011234567890189"  # published test number, masked FR****0189
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::(?P<op>[-?])(?P<word>[^}]*))?\}")


def interpolate(value: str, dotenv: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?message}`."""

    def replace(match: re.Match[str]) -> str:
        given = dotenv.get(match["name"], "")
        if given or match["op"] is None:
            return given
        if match["op"] == "?":
            raise AssertionError(f"compose needs {match['name']}: {match['word']}")
        return str(match["word"])

    return _VARIABLE.sub(replace, value)


@dataclass(frozen=True)
class Service:
    name: str
    command: list[str]
    environment: dict[str, str]
    grace_seconds: float


def stack_services(dotenv: dict[str, str]) -> dict[str, Service]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())  # merge keys resolved
    services = {}
    for name in STACK:
        service = compose["services"][name]
        environment = {
            key: interpolate(str(value), dotenv)
            for key, value in service.get("environment", {}).items()
        }
        grace = str(service.get("stop_grace_period", "10s"))
        assert grace.endswith("s") and grace[:-1].isdigit(), grace
        services[name] = Service(name, list(service["command"]), environment, float(grace[:-1]))
    return services


def on_this_machine(
    service: Service, secrets_dir: Path, scratch: Path
) -> tuple[list[str], dict[str, str]]:
    """The service's command and environment, with the values that must differ on one
    machine replaced (see the module's docstring); nothing else from this process's env."""
    command = list(service.command)
    for option, value in (("--host", "127.0.0.1"), ("--port", str(free_port()))):
        if option in command:
            command[command.index(option) + 1] = value
    environment = dict(service.environment)
    assert environment["BG_SECRETS_DIR"] == "/run/secrets"
    environment["BG_SECRETS_DIR"] = str(secrets_dir)
    metrics_dir = scratch / f"prometheus-{service.name}"
    metrics_dir.mkdir()
    environment["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    if "BG_WORKER_METRICS_PORT" in environment:
        environment["BG_WORKER_METRICS_PORT"] = str(free_port())
    environment |= {"PATH": os.environ["PATH"], "HOME": str(scratch), "LANG": "C.UTF-8"}
    return [GATEWAY, *command], environment


def replace_secret(secrets_dir: Path, name: str, value: str) -> None:
    path = secrets_dir / name
    path.chmod(0o600)
    path.write_text(value)


@dataclass
class Emulators:
    tenant: Tenant
    account: StripeAccount
    dotenv: dict[str, str]


@pytest.fixture
def emulators() -> Iterator[Emulators]:
    tenant, account = Tenant(), StripeAccount()
    seed_zuora(tenant)
    seed_stripe(account, DEFAULT_PLAN_TIERS)
    zuora = BackgroundServer(create_emulator(tenant), free_port()).start()
    stripe = BackgroundServer(create_stripe_emulator(account), free_port()).start()
    dotenv = {  # what the operator's .env gives compose
        "BG_ZUORA_SOAP_URL": f"{zuora.base}{SOAP_PATH}",
        "BG_ZUORA_USERNAME": tenant.username,
        "BG_STRIPE_API_BASE": stripe.base,
    }
    try:
        yield Emulators(tenant, account, dotenv)
    finally:
        zuora.stop()
        stripe.stop()


@pytest.fixture
async def stack_database(server_url: str) -> AsyncIterator[tuple[str, str, str]]:
    """A database of this test's own with its owner and application roles; (admin URL,
    application URL, owner URL). Dropped after, with the roles."""
    name = f"bg_stack_{secrets.token_hex(4)}"
    owner, app_role = f"{name}_owner", f"{name}_app"
    await create_roles(server_url, name, owner, app_role)
    admin = with_database(server_url, name)
    yield admin, with_user(admin, app_role), with_user(admin, owner)
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in (app_role, owner):
            await connection.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await connection.close()


def write_secrets(secrets_dir: Path, app_url: str, owner_url: str, tenant: Tenant) -> None:
    """As the guide says: deploy/make-secrets.py, then the providers' credentials (here the
    emulators'); the URLs name this test's server instead of compose's `postgres`."""
    subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "make-secrets.py"), str(secrets_dir)],
        check=True,
        capture_output=True,
    )
    replace_secret(secrets_dir, "DATABASE_URL", app_url)
    replace_secret(secrets_dir, "BG_MIGRATION_DATABASE_URL", owner_url)
    replace_secret(secrets_dir, "BG_ZUORA_PASSWORD", tenant.password)
    replace_secret(secrets_dir, "BG_STRIPE_API_KEY", StripeAccount().api_key)


def wait_ready(base: str, path: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        assert process.poll() is None, f"it exited:\n{log.read_text()[-4000:]}"
        try:
            if httpx.get(f"{base}{path}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{base} never became ready:\n{log.read_text()[-4000:]}")


async def eventually(check: Any, what: str, seconds: float = 90) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := await check():
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(f"not within {seconds} s: {what}")


class Stack:
    """The stack's processes on this machine, each logging to a file of its own."""

    def __init__(self, services: dict[str, Service], secrets_dir: Path, scratch: Path) -> None:
        self.services = services
        self.runs = {name: on_this_machine(services[name], secrets_dir, scratch) for name in STACK}
        self.logs = {name: scratch / f"{name}.log" for name in STACK}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def base(self, name: str) -> str:
        command = self.runs[name][0]
        return f"http://127.0.0.1:{command[command.index('--port') + 1]}"

    def migrate(self) -> None:
        command, environment = self.runs["migrate"]
        migrated = subprocess.run(command, env=environment, capture_output=True, timeout=120)
        assert migrated.returncode == 0, migrated.stderr.decode()[-4000:]

    def start(self, names: tuple[str, ...] = STACK[1:]) -> None:
        """Each named service's process (again, after a stop: `docker compose start`), its
        log appended to."""
        for name in names:
            command, environment = self.runs[name]
            with self.logs[name].open("ab") as log:
                self.processes[name] = subprocess.Popen(
                    command, env=environment, stdout=log, stderr=subprocess.STDOUT
                )
        for name in {"api-1", "api-2"} & set(names):
            wait_ready(self.base(name), "/health/ready", self.processes[name], self.logs[name])
        for name in {"worker-1", "worker-2"} & set(names):  # compose's worker healthcheck
            port = self.runs[name][1]["BG_WORKER_METRICS_PORT"]
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, "/metrics", self.processes[name], self.logs[name])

    def api_key(self) -> str:
        """As an operator would: `docker compose exec api-1 billing-gateway api-key create`."""
        scopes = ("change-requests:read", "change-requests:write", "change-requests:apply")
        options = [word for scope in scopes for word in ("--scope", scope)]
        issued = subprocess.run(
            [GATEWAY, "api-key", "create", "--name", "stack-test", *options],
            env=self.runs["api-1"][1],
            capture_output=True,
            timeout=60,
            check=True,
        )
        return issued.stdout.decode().strip().splitlines()[-1]

    def stop(self) -> dict[str, int | None]:
        """SIGTERM to every running process at once, as `docker compose stop`; each exit code,
        or None for one still running after its service's stop_grace_period."""
        running = {name: p for name, p in self.processes.items() if p.poll() is None}
        for process in running.values():
            process.send_signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for name, process in running.items():
            try:
                codes[name] = process.wait(self.services[name].grace_seconds)
            except subprocess.TimeoutExpired:
                codes[name] = None
        return codes

    def kill_leftovers(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()

    def log_tail(self, name: str) -> str:
        return self.logs[name].read_text()[-4000:]


def key_headers(key: str, idempotent: bool = False) -> dict[str, str]:
    given = {"Authorization": f"Bearer {key}"}
    return given | ({"Idempotency-Key": str(uuid.uuid4())} if idempotent else {})


async def file_and_apply(stack: Stack, key: str) -> str:
    """Filed through api-1, applied through api-2 (202: a worker carries it out); its id."""
    async with httpx.AsyncClient(timeout=30) as client:
        filed = await client.post(
            f"{stack.base('api-1')}/v1/change-requests",
            json=drills.atelier_iban_change(NEW_IBAN),
            headers=key_headers(key, idempotent=True),
        )
        assert filed.status_code == 201, filed.text
        request_id = str(filed.json()["id"])
        applying = await client.post(
            f"{stack.base('api-2')}/v1/change-requests/{request_id}/apply",
            json={},
            headers=key_headers(key, idempotent=True),
        )
        assert applying.status_code == 202, applying.text
    return request_id


async def assert_applied_once_and_sealed(
    admin_url: str, request_id: str, emulators: Emulators
) -> None:
    """The change applied, its audit entries all there and sealed, no job left running, and
    at each provider one new payment method (and one mandate), the customer's default."""
    admin = await asyncpg.connect(admin_url)
    try:
        sealed_actions = [
            row["action"]
            for row in await admin.fetch(
                "SELECT r.action FROM audit_records r JOIN audit_chain c ON c.entry_id = r.id "
                "WHERE r.target_id = $1 ORDER BY c.seq",
                request_id,
            )
        ]
        unsealed = await admin.fetchval(
            "SELECT count(*) FROM audit_records r WHERE NOT EXISTS "
            "(SELECT 1 FROM audit_chain c WHERE c.entry_id = r.id)"
        )
        steps = await admin.fetchval(
            "SELECT count(*) FROM fulfilment_steps s JOIN fulfilment_runs r ON r.id = s.run_id "
            "WHERE r.change_request_id = $1 AND s.status = 'succeeded'",
            uuid.UUID(request_id),
        )
        doing = await admin.fetchval(
            "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'"
        )
    finally:
        await admin.close()
    assert sealed_actions[0] == "change_request.create.succeeded"  # filed through api-1
    assert "change_request.apply.started" in sealed_actions
    assert sealed_actions.count("fulfilment.step.succeeded") == steps > 0
    assert sealed_actions[-1] == "change_request.apply.succeeded"
    assert unsealed == 0
    assert doing == 0, "a job was left running at the stop"

    tenant = emulators.tenant
    [account] = [a for a in tenant.table("Account").values() if a["AccountNumber"] == "A00000101"]
    zuora_default = tenant.table("PaymentMethod")[account["DefaultPaymentMethodId"]]
    assert str(zuora_default["BankTransferAccountNumberMask"]).endswith("0189")
    customer = emulators.account.get("customer", "cus_DemoAtelier01")
    method_id = customer["invoice_settings"]["default_payment_method"]
    assert emulators.account.get("payment_method", method_id)["sepa_debit"]["last4"] == "0189"

    zuora_methods = [
        method
        for method in tenant.table("PaymentMethod").values()
        if str(method.get("BankTransferAccountNumberMask", "")).endswith("0189")
    ]
    assert len(zuora_methods) == 1, "Zuora got the new payment method once"
    stripe_methods = [
        method["id"]
        for method in emulators.account.all("payment_method")
        if (method.get("sepa_debit") or {}).get("last4") == "0189"
    ]
    assert stripe_methods == [method_id], "Stripe got the new payment method once"
    mandates = [m for m in emulators.account.all("mandate") if m["payment_method"] == method_id]
    assert len(mandates) == 1, "one SEPA mandate for it"


async def in_flight(admin_url: str, request_id: str) -> bool:
    """Its fulfilment job running on a worker, a provider step done, the change not applied."""
    admin = await asyncpg.connect(admin_url)
    try:
        status = await admin.fetchval(
            "SELECT status FROM change_requests WHERE id = $1", uuid.UUID(request_id)
        )
        running = await admin.fetchval(
            "SELECT count(*) FROM procrastinate_jobs "
            "WHERE task_name = 'fulfilment.advance_run' AND status = 'doing'"
        )
        steps_done = await admin.fetchval(
            "SELECT count(*) FROM fulfilment_steps s JOIN fulfilment_runs r ON r.id = s.run_id "
            "WHERE r.change_request_id = $1 AND s.status = 'succeeded'",
            uuid.UUID(request_id),
        )
    finally:
        await admin.close()
    assert status != "applied", "the apply ended before the stop: slow the emulators more"
    return bool(running and steps_done)


async def applied_through_the_api(stack: Stack, key: str, request_id: str) -> bool:
    async with httpx.AsyncClient(timeout=30) as client:
        read = await client.get(
            f"{stack.base('api-1')}/v1/change-requests/{request_id}", headers=key_headers(key)
        )
    return bool(read.json()["status"] == "applied")


async def sealed_with_both_workers_up(admin_url: str) -> bool:
    """Every audit entry sealed (the workers' minute job), read while the workers run: both
    registered (a worker's row goes when it stops)."""
    admin = await asyncpg.connect(admin_url)
    try:
        unsealed = await admin.fetchval(
            "SELECT count(*) FROM audit_records r WHERE NOT EXISTS "
            "(SELECT 1 FROM audit_chain c WHERE c.entry_id = r.id)"
        )
        registered = await admin.fetchval("SELECT count(*) FROM procrastinate_workers")
    finally:
        await admin.close()
    return bool(unsealed == 0 and registered == 2)


@pytest.mark.timeout(240)
async def test_the_stack_stopped_during_an_apply_and_started_again_applies_it_once(
    emulators: Emulators, stack_database: tuple[str, str, str], tmp_path: Path
) -> None:
    """`docker compose stop` while a worker carries out an Apply against slow providers, then
    `docker compose start`: every process exits 0 within its grace period both times, and the
    change ends applied once, its audit entries all sealed, no job left running."""
    admin_url, app_url, owner_url = stack_database
    secrets_dir = tmp_path / "secrets"
    write_secrets(secrets_dir, app_url, owner_url, emulators.tenant)
    stack = Stack(stack_services(emulators.dotenv), secrets_dir, tmp_path)

    stack.migrate()
    try:
        stack.start()
        key = stack.api_key()
        # Every provider call waits this long first: the Apply's job runs for several seconds,
        # well within the stop_grace_period a worker has to finish it.
        emulators.tenant.faults.latency_seconds = PROVIDER_LATENCY_SECONDS
        emulators.account.faults.latency_seconds = PROVIDER_LATENCY_SECONDS
        request_id = await file_and_apply(stack, key)
        await eventually(lambda: in_flight(admin_url, request_id), "the Apply under way", 60)
        codes = await asyncio.to_thread(stack.stop)
        for name, code in codes.items():
            assert code == 0, f"{name} exited {code} on SIGTERM:\n{stack.log_tail(name)}"
        assert await jobs_doing(admin_url) == 0, "a job was left running at the stop"

        stack.start()
        await eventually(
            lambda: applied_through_the_api(stack, key, request_id), "the change applied"
        )
        await eventually(
            lambda: sealed_with_both_workers_up(admin_url), "all sealed, both workers up", 100
        )
        codes = await asyncio.to_thread(stack.stop)
    finally:
        stack.kill_leftovers()
    for name, code in codes.items():
        assert code == 0, f"{name} exited {code} on its second SIGTERM:\n{stack.log_tail(name)}"

    await assert_applied_once_and_sealed(admin_url, request_id, emulators)


async def jobs_doing(admin_url: str) -> int:
    admin = await asyncpg.connect(admin_url)
    try:
        return int(
            await admin.fetchval("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'")
        )
    finally:
        await admin.close()
