"""`billing-gateway`: serve, work, migrate, seed, and manage API keys.

Each command (here, in cli_users.py and in cli_audit.py) imports what it works with inside its
function, so that `--help` and every other command start without loading it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from gateway.api_keys.scopes import Scope
from gateway.cli_audit import audit_cli
from gateway.cli_context import database_or_exit, load_settings, operator_name, run_with_database
from gateway.cli_json import JsonOutput, echo_json
from gateway.cli_users import users_cli
from settings import Settings, reset_settings

cli = typer.Typer(
    help="billing-gateway: support tools in, Stripe and Zuora out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
api_keys_cli = typer.Typer(
    help="Issue, list and revoke API keys for support tools.", no_args_is_help=True
)
cli.add_typer(api_keys_cli, name="api-key")


def _exit_on_sigterm(signal_number: int, frame: Any) -> None:
    """SIGTERM ends the process through Python (finally blocks, atexit): uvicorn re-raises it
    after its graceful shutdown, and its default action would skip stopping the embedded
    PostgreSQL. A stop that was asked for is a clean exit, 0, as the worker's is: an
    orchestrator then sees a graceful stop, not a crash."""
    raise SystemExit(0)


@cli.command()
def migrate() -> None:
    """Create or update the database schema."""
    load_settings()
    from gateway.core.db.migrate import migrate as run_migrations

    run_with_database(run_migrations)
    typer.echo("database is up to date")


@cli.command()
def seed() -> None:
    """Add the sandbox demo (API key, customers, requests) if it is not there yet."""
    settings = load_settings()
    run_with_database(lambda: _seed_with_jobs(settings))


async def _seed_with_jobs(settings: Settings) -> None:
    """The demo seeded with the job queue open: its requests' events are queued for the worker
    at once, not found by its minute sweep (and no warning per event)."""
    from gateway.core.jobs import job_app
    from gateway.demo import seed_demo
    from gateway.notifications.outbox import kicks_sent

    async with job_app.open_async():
        await seed_demo(settings)
        await kicks_sent()


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default BG_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default BG_PORT")] = None,
    workers: Annotated[int, typer.Option(help="HTTP worker processes")] = 1,
    with_worker: Annotated[bool, typer.Option(help="run the job worker in this process")] = False,
) -> None:
    """Serve the API (and its docs and health) with uvicorn."""
    settings = load_settings()
    import uvicorn

    from gateway.core.db.server import ensure_database, stop_embedded_server
    from gateway.serving import uvicorn_options

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        asyncio.run(database_or_exit(ensure_database()))
        _start_emulators(settings, api_port=port or settings.port)
        _prepare_metrics(settings, workers)
        if with_worker:
            os.environ["BG_RUN_WORKER_IN_PROCESS"] = "true"
            reset_settings()  # gateway.asgi reads the settings again in this process
        uvicorn.run(
            "gateway.asgi:app",
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            log_config=None,
            access_log=False,
            **uvicorn_options(settings),
        )
    finally:
        stop_embedded_server()


def _start_emulators(settings: Settings, api_port: int) -> None:
    """In sandbox, each provider left unconfigured is served by its emulator beside the API,
    sending its events to this gateway (adapters/<provider>/provider.py)."""
    from adapters.provider import EmulatorError
    from adapters.registry import PROVIDERS
    from adapters.serving import BackgroundServer

    for provider in PROVIDERS.values():
        try:
            emulator = provider.emulator(settings, f"http://127.0.0.1:{api_port}")
        except EmulatorError as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(2) from None
        if emulator is None:
            continue
        try:
            BackgroundServer(emulator.app, emulator.port).start()
        except RuntimeError as error:
            typer.echo(f"{error}: is {emulator.port_variable} in use?", err=True)
            raise typer.Exit(2) from None


@cli.command()
def emulator(
    port: Annotated[int | None, typer.Option(help="default BG_ZUORA_EMULATOR_PORT")] = None,
    extra_customers: Annotated[
        int, typer.Option(min=0, help="also B00000001, B00000002, ... (for benchmarks)")
    ] = 0,
    state_file: Annotated[
        Path | None, typer.Option(help="keep the tenant in this JSON file (default: in memory)")
    ] = None,
) -> None:
    """Serve only the Zuora emulator (SOAP and REST, demo customers) on 127.0.0.1."""
    settings = load_settings()
    import uvicorn

    from adapters.provider import EmulatorError
    from adapters.zuora.sandbox import standalone_emulator

    try:
        app = standalone_emulator(settings, state_file=state_file, extra_customers=extra_customers)
    except EmulatorError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port or settings.zuora_emulator_port,
        log_config=None,
        access_log=False,
    )


def _prepare_metrics(settings: Settings, processes: int) -> None:
    """Before any process imports prometheus_client: one directory for all of them, empty."""
    from gateway.metrics.multiprocess import prepare

    prepare(settings.data_dir, processes)


@cli.command()
def worker(
    metrics_port: Annotated[
        int,
        typer.Option(
            envvar="BG_WORKER_METRICS_PORT",
            min=0,
            help="serve this worker's /metrics on this port (0: none)",
        ),
    ] = 0,
) -> None:
    """Run background jobs (webhooks, audit sealing, imports, syncs, purges); carries on by
    itself after a database outage. SIGTERM or Ctrl-C stop it once running jobs finish."""
    settings = load_settings()
    _prepare_metrics(settings, 1)
    from gateway.core.jobs import job_app
    from gateway.job_worker import SupervisedWorker
    from gateway.metrics.multiprocess import mark_dead_at_exit
    from gateway.metrics.worker_server import serve_worker_metrics

    mark_dead_at_exit()

    async def work() -> None:
        supervised = SupervisedWorker(job_app)
        loop = asyncio.get_running_loop()
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(stop_signal, supervised.stop)
        # Only now: whoever sees the port answer may stop the worker, and it stops cleanly.
        serve_worker_metrics(metrics_port)
        async with job_app.open_async():
            await supervised.run()

    run_with_database(work)


@cli.command()
def run() -> None:
    """Everything for a first look: database, migrations, demo data, API, worker."""
    settings = load_settings()
    from gateway.core.db.migrate import migrate as run_migrations
    from gateway.core.db.server import stop_embedded_server
    from gateway.demo import demo_sign_in_help

    async def prepare() -> None:
        await run_migrations()
        await _seed_with_jobs(settings)

    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # also while migrating and seeding
    try:
        run_with_database(prepare)
    except BaseException:
        stop_embedded_server()
        raise
    base = f"http://{settings.host}:{settings.port}"
    typer.echo(
        f"\nbilling-gateway is starting in {settings.mode.value.upper()} mode\n"
        f"  API        {base}/v1\n"
        f"  API docs   {base}/schema  (served by the gateway: works offline)\n"
        f"  problems   {base}/problems  (what each error code means)\n"
        f"  health     {base}/health/ready\n"
        f"  metrics    {base}/metrics\n"
        + (
            _sandbox_providers_help(settings, base) + demo_sign_in_help(base)
            if settings.sandbox
            else ""
        )
    )
    sys.stdout.flush()
    serve(host=None, port=None, workers=1, with_worker=True)


def _sandbox_providers_help(settings: Settings, base: str) -> str:
    from adapters.registry import PROVIDERS

    return "".join(
        provider.sandbox_help(settings, base) for _, provider in sorted(PROVIDERS.items())
    )


@api_keys_cli.command("create")
def api_key_create(
    name: Annotated[str, typer.Option(help="who uses it, e.g. 'zendesk-app'")],
    scope: Annotated[
        list[Scope],
        typer.Option("--scope", metavar="SCOPE", help=f"repeat for each scope: {', '.join(Scope)}"),
    ],
    expires_in_days: Annotated[int | None, typer.Option(min=1)] = None,
    rate_limit: Annotated[int | None, typer.Option(min=1, help="requests a minute")] = None,
    client: Annotated[
        str | None,
        typer.Option(
            help="the organisation it belongs to, e.g. 'zendesk-acme' (default: a client of its "
            "own, '<name>-<prefix>'); its keys share its change requests, so give the old "
            "key's client when rotating"
        ),
    ] = None,
) -> None:
    """Issue a key; its secret is printed this once and never again."""
    load_settings()
    from audit.entry import Actor
    from gateway.api_keys.service import issue_key

    expires = timedelta(days=expires_in_days) if expires_in_days else None
    issued = run_with_database(
        lambda: issue_key(
            name,
            scope,
            expires_in=expires,
            rate_limit_per_minute=rate_limit,
            client=client,
            actor=Actor(kind="staff", id=operator_name(), role="cli"),
        )
    )
    typer.echo(
        f"API key for {issued.name} (client {issued.client}, prefix {issued.prefix}), shown "
        f"once:\n{issued.secret}"
    )


@api_keys_cli.command("list")
def api_key_list(as_json: JsonOutput = False) -> None:
    """List keys: prefix, name, scopes, expiry, revocation, last use. Never secrets."""
    load_settings()
    from gateway.api_keys.service import list_keys

    keys = run_with_database(list_keys)
    if as_json:
        echo_json(
            {
                "prefix": key.prefix,
                "name": key.name,
                "client": key.client,
                "state": "revoked" if key.revoked_at else "active",
                "scopes": list(key.scopes),
                "rate_limit_per_minute": key.rate_limit_per_minute,
                "created_at": key.created_at,
                "expires_at": key.expires_at,
                "revoked_at": key.revoked_at,
                "last_used_at": key.last_used_at,
            }
            for key in keys
        )
        return
    for key in keys:
        state = "revoked" if key.revoked_at else "active"
        typer.echo(
            f"{key.prefix}  {state:7}  {key.name:20}  client={key.client}  "
            f"{','.join(key.scopes)}  "
            f"expires={key.expires_at or '-'}  last_used={key.last_used_at or '-'}"
        )


@api_keys_cli.command("revoke")
def api_key_revoke(
    prefix: str,
    reason: Annotated[str, typer.Option(help="why, for the audit trail")],
) -> None:
    """Revoke a key at once."""
    load_settings()
    from audit.entry import Actor
    from gateway.api_keys.service import revoke_key
    from gateway.core.errors import BillingError

    try:
        run_with_database(
            lambda: revoke_key(
                prefix, actor=Actor(kind="staff", id=operator_name(), role="cli"), reason=reason
            )
        )
    except BillingError as error:
        typer.echo(error.detail, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"revoked {prefix}")


cli.add_typer(users_cli, name="user")
cli.add_typer(audit_cli, name="audit")


def main() -> None:
    cli()
