"""Filing change requests through the whole edge, side by side with a trivial route.

Starts the real server (`billing-gateway serve`) on a fresh database and loads it from this
process over loopback: first one request at a time (added latency: p50 and p99 of the filing
route minus those of /health/live), then an open-model load at a fixed arrival rate (requests
are sent on schedule whatever the answers' speed) to show the rate the gateway sustains.

    make bench                      # or: .venv/bin/python bench/intake.py --rate 300
Exits non-zero when the accepted rate is under the target (300 change requests/s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
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
    """A valid French IBAN for a random account: most real changes carry a new IBAN."""
    return str(IBAN.generate("FR", bank_code="30006", account_code=str(random.randrange(10**10))))


def iban_change_body() -> dict[str, object]:
    return {
        "kind": "iban_change",
        "ticket": {"system": "zendesk", "id": uuid.uuid4().hex[:16]},
        "customer": {"zuora_account_id": "A00000101", "backoffice_id": "shop-101"},
        "requester": {"name": "Bench"},
        "contact_reasons": ["Billing > Payment method > Bank details change"],
        "payload": {
            "iban": "FR7630006000011234567890189",
            "account_holder": "Atelier Lumière",
            "targets": ["zuora_collection", "stripe_customer_debit"],
        },
    }


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def prepare_database() -> tuple[str, str]:
    """A fresh database on DATABASE_URL's server (or an embedded one) and an API key."""
    from gateway.db.server import create_database_if_missing, start_embedded_server, with_database

    server = os.environ.get("DATABASE_URL") or start_embedded_server(
        Path(tempfile.mkdtemp(prefix="bg-bench-"))
    )
    url = with_database(server, f"bg_bench_{secrets.token_hex(4)}")
    await create_database_if_missing(server, url.rsplit("/", 1)[1].split("?")[0])
    os.environ["DATABASE_URL"] = url
    from audit.entry import SYSTEM
    from gateway.api_keys.scopes import ALL_SCOPES
    from gateway.api_keys.service import issue_key
    from gateway.db.connection import close_pool, start_pool
    from gateway.db.migrate import migrate

    await start_pool(2)
    await migrate()
    key = await issue_key("bench", list(ALL_SCOPES), actor=SYSTEM)
    await close_pool()
    return url, key.secret


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


async def one(client: httpx.AsyncClient, key: str, trivial: bool) -> tuple[float, int]:
    started = time.perf_counter()
    if trivial:
        response = await client.get("/health/live")
    else:
        response = await client.post(
            "/v1/change-requests",
            json=iban_change_body(),
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": uuid.uuid4().hex},
        )
    return (time.perf_counter() - started) * 1000, response.status_code


async def sequential(client: httpx.AsyncClient, key: str, trivial: bool, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        elapsed, status = await one(client, key, trivial)
        assert status in (200, 201), status
        timings.append(elapsed)
    return timings


async def open_model(
    client: httpx.AsyncClient, key: str, trivial: bool, rate: float, seconds: float
) -> dict[str, float]:
    """Send at a fixed arrival rate regardless of answers; measure what comes back."""
    tasks: list[asyncio.Task[tuple[float, int]]] = []
    started = time.perf_counter()
    total = int(rate * seconds)
    for number in range(total):
        delay = started + number / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(client, key, trivial)))
    results = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    good = [ms for ms, status in results if status in (200, 201)]
    return {
        "offered_per_s": rate,
        "accepted_per_s": len(good) / elapsed,
        "errors": float(total - len(good)),
        "p50_ms": percentile(good, 0.5),
        "p99_ms": percentile(good, 0.99),
    }


async def measure(base: str, key: str, rate: float, seconds: float) -> dict[str, object]:
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await sequential(client, key, True, 50)  # warm up both paths
        await sequential(client, key, False, 50)
        trivial = await sequential(client, key, True, 400)
        filing = await sequential(client, key, False, 400)
        loaded_trivial = await open_model(client, key, True, rate, seconds)
        loaded_filing = await open_model(client, key, False, rate, seconds)
    return {
        "sequential": {
            "trivial_p50_ms": statistics.median(trivial),
            "trivial_p99_ms": percentile(trivial, 0.99),
            "filing_p50_ms": statistics.median(filing),
            "filing_p99_ms": percentile(filing, 0.99),
            "added_p50_ms": statistics.median(filing) - statistics.median(trivial),
            "added_p99_ms": percentile(filing, 0.99) - percentile(trivial, 0.99),
        },
        "open_model_trivial": loaded_trivial,
        "open_model_filing": loaded_filing,
    }


def report(figures: dict[str, object], previous: dict[str, object] | None) -> bool:
    sequential = figures["sequential"]
    assert isinstance(sequential, dict)
    print("\nOne request at a time (ms)        trivial route   file change request   added")
    print(
        f"  p50                              {sequential['trivial_p50_ms']:13.2f}"
        f"   {sequential['filing_p50_ms']:19.2f}   {sequential['added_p50_ms']:5.2f}"
    )
    print(
        f"  p99                              {sequential['trivial_p99_ms']:13.2f}"
        f"   {sequential['filing_p99_ms']:19.2f}   {sequential['added_p99_ms']:5.2f}"
    )
    print("\nFixed arrival rate         offered/s  accepted/s  errors   p50 ms   p99 ms")
    for name in ("open_model_trivial", "open_model_filing"):
        row = figures[name]
        assert isinstance(row, dict)
        print(
            f"  {name[11:]:24} {row['offered_per_s']:9.0f} {row['accepted_per_s']:11.1f}"
            f" {row['errors']:7.0f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f}"
        )
    filing = figures["open_model_filing"]
    assert isinstance(filing, dict)
    met = filing["accepted_per_s"] >= TARGET_RATE * 0.98 and filing["errors"] == 0
    print(
        f"\ntarget: >= {TARGET_RATE:.0f} accepted change requests/s with no errors: "
        f"{'met' if met else 'MISSED'}"
    )
    if previous:
        before = previous.get("open_model_filing", {})
        if isinstance(before, dict) and before.get("p99_ms"):
            print(f"previous run: p99 {before['p99_ms']:.2f} ms at {before['offered_per_s']:.0f}/s")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="arrivals per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    arguments = parser.parse_args()
    url, key = asyncio.run(prepare_database())
    server, base = start_server(url, arguments.workers)
    try:
        figures = asyncio.run(measure(base, key, arguments.rate, arguments.seconds))
    finally:
        server.terminate()
        server.wait(timeout=30)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else None
    met = report(figures, previous)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
