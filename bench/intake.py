"""Filing change requests through the whole edge, side by side with a trivial route.

Starts the real server (`billing-gateway serve`) on a fresh database, then:
1. one request at a time from this process (httpx): p50 and p99 of filing an IBAN change and of
   /health/live; their difference is what the edge (auth, idempotency, validation, encryption,
   database, audit) adds;
2. throughput from a second process, `wrk` over loopback with fixed connections: requests/s
   accepted for both routes (Debian: `apt-get install wrk`; without it this step is skipped).

    make bench            # or: .venv/bin/python bench/intake.py --workers 2 --seconds 10
Exits non-zero when fewer than 300 change requests/s are accepted or any answer is not 2xx.
The figures are kept in bench/results/intake.json and the previous run is shown beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from schwifty import IBAN

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "intake.json"
TARGET_RATE = 300.0


def random_iban() -> str:
    """A random account at a German bank whose own check digits hold (the gateway checks them;
    about one number in ten passes this bank's method)."""
    while True:
        account = str(random.randrange(10**9))
        iban = IBAN.generate("DE", bank_code="12030000", account_code=account)
        try:
            return str(IBAN(iban.compact, validate_bban=True))
        except ValueError:
            continue


def iban_change_body() -> dict[str, object]:
    return {
        "kind": "iban_change",
        "ticket": {"system": "zendesk", "id": f"t{uuid.uuid4().hex[:12]}"},
        "customer": {"zuora_account_id": "A00000101", "backoffice_id": "shop-101"},
        "requester": {"name": "Bench"},
        "contact_reasons": ["Billing > Bank details"],
        "payload": {
            "iban": random_iban(),
            "account_holder": "Atelier",
            "account_holder_email": "compta@atelier.example",  # Stripe's SEPA mandate needs it
            "targets": ["zuora_collection", "stripe_customer_debit"],
        },
    }


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def prepare_database() -> tuple[str, str, str]:
    """A fresh database on DATABASE_URL's server (or an embedded one) and an API key."""
    from gateway.core.db.server import (
        create_database_if_missing,
        start_embedded_server,
        with_database,
    )

    server = os.environ.get("DATABASE_URL") or start_embedded_server(
        Path(tempfile.mkdtemp(prefix="bg-bench-"))
    )
    name = f"bg_bench_{secrets.token_hex(4)}"
    await create_database_if_missing(server, name)
    url = with_database(server, name)
    os.environ["DATABASE_URL"] = url
    from audit.entry import SYSTEM
    from gateway.api_keys.scopes import ALL_SCOPES
    from gateway.api_keys.service import issue_key
    from gateway.core.db.connection import close_pool, start_pool
    from gateway.core.db.migrate import migrate

    await start_pool(2)
    await migrate()
    key = await issue_key("bench", list(ALL_SCOPES), actor=SYSTEM)
    await close_pool()
    return server, url, key.secret


async def drop_database(server: str, url: str) -> None:
    """Drop `url`'s database, connected to `server`'s. The name is the URL's path: the embedded
    server's URLs end in `?host=<socket dir>/postgres`, and the text after the last slash named
    the database the connection had open."""
    import asyncpg

    from gateway.core.db.server import database_name

    connection = await asyncpg.connect(server)
    name = database_name(url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def start_server(url: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "BG_LOG_FORMAT": "json",
        "BG_RATE_LIMIT_PER_MINUTE": "10000000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--workers", str(workers)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


async def sequential(base: str, key: str, trivial: bool, count: int) -> list[float]:
    timings = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(count):
            started = time.perf_counter()
            if trivial:
                response = await client.get("/health/live")
            else:
                response = await client.post(
                    "/v1/change-requests",
                    json=iban_change_body(),
                    headers={"Authorization": f"Bearer {key}", "Idempotency-Key": uuid.uuid4().hex},
                )
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code >= 300:
                raise SystemExit(f"unexpected answer {response.status_code}: {response.text[:300]}")
    return timings


def wrk(base: str, key: str, trivial: bool, seconds: float, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as ibans:
        ibans.write("\n".join(random_iban() for _ in range(5000)))
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:.0f}s", "--latency"]
    if not trivial:
        command += ["-s", str(ROOT / "bench" / "intake.lua")]
    target = f"{base}/health/live" if trivial else base
    environment = {**os.environ, "BENCH_KEY": key, "BENCH_IBANS": ibans.name}
    return wrk_figures([*command, target], environment)


def wrk_figures(command: list[str], environment: dict[str, str]) -> dict[str, float]:
    """Run wrk with --latency and read its rate, failures and percentiles."""
    output = subprocess.run(
        command, env=environment, capture_output=True, text=True, check=True
    ).stdout

    def milliseconds(label: str) -> float:
        found = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", output)
        assert found, output
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: .*timeout (\d+)", output)
    assert rate, output
    return {
        "per_s": float(rate.group(1)),
        "not_2xx": float(failed.group(1)) if failed else 0.0,
        "timeouts": float(errors.group(1)) if errors else 0.0,
        "p50_ms": milliseconds("50%"),
        "p99_ms": milliseconds("99%"),
    }


def measure(base: str, key: str, seconds: float, connections: int) -> dict[str, object]:
    asyncio.run(sequential(base, key, True, 50))  # warm up both paths
    asyncio.run(sequential(base, key, False, 50))
    trivial = asyncio.run(sequential(base, key, True, 400))
    filing = asyncio.run(sequential(base, key, False, 400))
    figures: dict[str, object] = {
        "sequential": {
            "trivial_p50_ms": statistics.median(trivial),
            "trivial_p99_ms": percentile(trivial, 0.99),
            "filing_p50_ms": statistics.median(filing),
            "filing_p99_ms": percentile(filing, 0.99),
            "added_p50_ms": statistics.median(filing) - statistics.median(trivial),
            "added_p99_ms": percentile(filing, 0.99) - percentile(trivial, 0.99),
        }
    }
    if shutil.which("wrk"):
        figures["load_trivial"] = wrk(base, key, True, seconds, connections)
        figures["load_filing"] = wrk(base, key, False, seconds, connections)
    return figures


def report(figures: dict[str, object], previous: dict[str, object] | None) -> bool:
    sequential = figures["sequential"]
    assert isinstance(sequential, dict)
    print("\nOne request at a time (ms)   trivial route   file a change request   added")
    for label in ("p50", "p99"):
        print(
            f"  {label}                        {sequential[f'trivial_{label}_ms']:13.2f}"
            f"   {sequential[f'filing_{label}_ms']:21.2f}   {sequential[f'added_{label}_ms']:5.2f}"
        )
    if "load_filing" not in figures:
        print("\nwrk is not installed (Debian: apt-get install wrk): throughput not measured")
        return False
    print("\nLoad from wrk over loopback   requests/s   not 2xx   p50 ms   p99 ms")
    for name in ("load_trivial", "load_filing"):
        row = figures[name]
        assert isinstance(row, dict)
        print(
            f"  {name[5:]:27} {row['per_s']:10.1f} {row['not_2xx']:9.0f}"
            f" {row['p50_ms']:8.2f} {row['p99_ms']:8.2f}"
        )
    filing = figures["load_filing"]
    assert isinstance(filing, dict)
    met = filing["per_s"] >= TARGET_RATE and filing["not_2xx"] == 0 and filing["timeouts"] == 0
    verdict = "met" if met else "MISSED"
    print(f"\ntarget >= {TARGET_RATE:.0f} accepted change requests/s, all 2xx: {verdict}")
    before = (previous or {}).get("load_filing")
    if isinstance(before, dict):
        print(f"previous run: {before['per_s']:.1f} requests/s, p99 {before['p99_ms']:.2f} ms")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="server processes (one a core)")
    arguments = parser.parse_args()
    server_url, url, key = asyncio.run(prepare_database())
    server, base = start_server(url, arguments.workers)
    try:
        figures = measure(base, key, arguments.seconds, arguments.connections)
    finally:
        server.terminate()
        server.wait(timeout=30)
        asyncio.run(drop_database(server_url, url))
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else None
    met = report(figures, previous)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
