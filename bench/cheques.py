"""Cheques: a day's mail of cheques in 3 currencies entered through the API, then the batch
close and the day's report at that size, side by side with a trivial route.

Serves both emulators in a process of their own (loopback HTTP, no added latency, no rate
limit: this measures the gateway), starts the real gateway (`billing-gateway serve`) on a fresh
database, then:
1. enters N cheques (default 1,000; a day's mail is 10,000) with `POST /v1/cheques`, 16 at a
   time, spread over EUR, USD and GBP and over both providers' demo customers
   (A-CHEQUE-EUR/USD/GBP at Zuora, cus_cheque_eur/usd/gbp at Stripe) as credits for the next
   invoice: the rate, for the record;
2. one request at a time, alternating with `GET /health/live`: a batch close with a wrong
   scanner total (the gateway sums the batch, keeps the scan and answers 409 with the
   difference; the batch stays open, so it can be measured again), the day's report
   (`GET /v1/cheque-reports/daily`) and its CSV, and the 30-day report. Then the closes with
   the right totals, once per batch.
   Target: p95 under 1 second for the close and for the report (the issue's), printed beside
   the trivial route's p95 in the same run and its ratio to it.

Entering runs at about 30 cheques/s here: 1,000 take half a minute, 10,000 five minutes. The
reports and closes grow with the day's cheques, so their figures are named with the count and
compared only with runs of the same count.

    make bench      # or: .venv/bin/python bench/cheques.py --cheques 10000   (a full day)
Exits non-zero when a target is missed; bench/results/cheques.json keeps the last runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from apply import start_emulators
from apply import start_gateway as start_apply_gateway
from kit import Bound, Ratio, drop_database, finish, percentile, prepare_database, report

TARGET_P95_MS = 1000.0
CURRENCIES = ("EUR", "USD", "GBP")
CUSTOMERS = {
    ("zuora", "EUR"): "A-CHEQUE-EUR",
    ("zuora", "USD"): "A-CHEQUE-USD",
    ("zuora", "GBP"): "A-CHEQUE-GBP",
    ("stripe", "EUR"): "cus_cheque_eur",
    ("stripe", "USD"): "cus_cheque_usd",
    ("stripe", "GBP"): "cus_cheque_gbp",
}
DEPOSITOR, CLOSER = "bench-depositor", "bench-closer"
CONCURRENCY = 16
SAMPLES = 40


async def create_operations_staff(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    from audit.entry import SYSTEM
    from gateway.core.db.connection import close_pool, start_pool
    from gateway.staff.roles import Role
    from gateway.staff.service import create_staff

    await start_pool(2)
    for username in (DEPOSITOR, CLOSER):
        await create_staff(username, f"{username}@bench.example", Role.OPERATIONS, SYSTEM)
    await close_pool()


def start_gateway(url: str, zuora: str, stripe: str) -> tuple[subprocess.Popen[bytes], str]:
    # The emulators have no limit here: the gateway's own pacing must not be the bench.
    return start_apply_gateway(url, zuora, stripe, {"zuora": 100000.0, "stripe": 100000.0})


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Idempotency-Key": uuid.uuid4().hex}


def cheque_body(number: int) -> dict[str, Any]:
    currency = CURRENCIES[number % len(CURRENCIES)]
    provider = "zuora" if (number // len(CURRENCIES)) % 2 == 0 else "stripe"
    return {
        "provider": provider,
        "account_id": CUSTOMERS[(provider, currency)],
        "amount_minor": 1000 + (number * 37) % 90000,
        "currency": currency,
        "reference": f"{number:07d}",
        "depositor": DEPOSITOR,
    }


async def enter_cheques(base: str, key: str, count: int) -> dict[str, float]:
    numbers = iter(range(1, count + 1))
    failures: list[str] = []

    async def worker(client: httpx.AsyncClient) -> None:
        for number in numbers:
            answer = await client.post(
                "/v1/cheques", json=cheque_body(number), headers=headers(key)
            )
            if answer.status_code not in (201, 202):
                failures.append(f"{answer.status_code} {answer.text[:300]}")

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
    seconds = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} cheques refused, first: {failures[0]}")
    return {"cheques": float(count), "seconds": seconds, "per_s": count / seconds}


async def open_batches(client: httpx.AsyncClient, key: str) -> list[dict[str, Any]]:
    answer = await client.get(
        "/v1/cheque-batches",
        params={"status": "open", "limit": 200},
        headers={"Authorization": f"Bearer {key}"},
    )
    answer.raise_for_status()
    return list(answer.json()["items"])


async def timed(client: httpx.AsyncClient, method: str, path: str, **sent: Any) -> float:
    """Milliseconds of one request that must answer 2xx."""
    started = time.perf_counter()
    answer = await client.request(method, path, **sent)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code >= 300:
        raise SystemExit(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
    return elapsed


async def measure_reads(base: str, key: str) -> dict[str, dict[str, float]]:
    auth = {"Authorization": f"Bearer {key}"}
    samples: dict[str, list[float]] = {
        "trivial route": [],
        "batch close (totals differ: 409)": [],
        "day's report": [],
        "day's report as CSV": [],
        "30-day report": [],
    }
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        batches = await open_batches(client, key)
        today = batches[0]["business_date"]
        month_ago = str(date.fromisoformat(today) - timedelta(days=29))
        for round_number in range(SAMPLES):
            samples["trivial route"].append(await timed(client, "GET", "/health/live"))
            batch = batches[round_number % len(batches)]
            started = time.perf_counter()
            answer = await client.post(
                f"/v1/cheque-batches/{batch['id']}/close",
                json={"scanner_total_minor": 1, "closed_by": CLOSER},
                headers=headers(key),
            )
            samples["batch close (totals differ: 409)"].append(
                (time.perf_counter() - started) * 1000
            )
            if answer.status_code != 409:
                raise SystemExit(
                    f"a wrong total answered {answer.status_code}: {answer.text[:300]}"
                )
            day = {"date_from": today, "date_to": today}
            samples["day's report"].append(
                await timed(client, "GET", "/v1/cheque-reports/daily", params=day, headers=auth)
            )
            samples["day's report as CSV"].append(
                await timed(client, "GET", "/v1/cheque-reports/daily.csv", params=day, headers=auth)
            )
            month = {"date_from": month_ago, "date_to": today}
            samples["30-day report"].append(
                await timed(client, "GET", "/v1/cheque-reports/daily", params=month, headers=auth)
            )
        closes: list[float] = []
        for batch in batches:
            started = time.perf_counter()
            answer = await client.post(
                f"/v1/cheque-batches/{batch['id']}/close",
                json={"scanner_total_minor": batch["total"]["amount_minor"], "closed_by": CLOSER},
                headers=headers(key),
            )
            closes.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200 or answer.json()["status"] != "closed":
                raise SystemExit(
                    f"the right total answered {answer.status_code}: {answer.text[:300]}"
                )
        samples["batch close (totals equal: closed)"] = closes
    return {
        name: {
            "p50_ms": percentile(values, 0.50),
            "p95_ms": percentile(values, 0.95),
            "samples": float(len(values)),
        }
        for name, values in samples.items()
    }


def show(figures: dict[str, Any]) -> list[Ratio | Bound]:
    """Print the detail; the checks on it."""
    entered = figures["entered"]
    count = f"{entered['cheques']:,.0f}"
    print(
        f"\nentered {count} cheques in {entered['seconds']:.1f} s"
        f" ({entered['per_s']:.1f}/s, {CONCURRENCY} at a time, both providers' emulators)"
    )
    trivial = figures["reads"]["trivial route"]["p95_ms"]
    print(f"\n{'request':38} {'p50 ms':>8} {'p95 ms':>8} {'x trivial':>10}")
    checks: list[Ratio | Bound] = []
    for name, values in figures["reads"].items():
        ratio = values["p95_ms"] / trivial if trivial else 0.0
        print(f"{name:38} {values['p50_ms']:8.1f} {values['p95_ms']:8.1f} {ratio:10.1f}")
        if name != "trivial route":
            checks.append(
                Bound(
                    f"{name}, p95 at {count} cheques",
                    values["p95_ms"],
                    "ms",
                    at_most=TARGET_P95_MS,
                    why=f"beside the trivial route's p95 of {trivial:.1f} ms ({ratio:.0f}x)",
                )
            )
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--cheques", type=int, default=1_000, help="cheques entered (a day's mail: 10,000)"
    )
    arguments = parser.parse_args()
    emulators, zuora, stripe = start_emulators(0)
    server, url, key = asyncio.run(prepare_database())
    gateway = None
    try:
        asyncio.run(create_operations_staff(url))
        gateway, base = start_gateway(url, zuora, stripe)
        entered = asyncio.run(enter_cheques(base, key, arguments.cheques))
        reads = asyncio.run(measure_reads(base, key))
    finally:
        if gateway is not None:
            gateway.terminate()
            gateway.wait(timeout=30)
        emulators.terminate()
        emulators.wait(timeout=30)
        asyncio.run(drop_database(server, url))
    figures = {"entered": entered, "reads": reads}
    finish(report("cheques", show(figures), figures))


if __name__ == "__main__":
    main()
