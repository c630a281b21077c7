"""Filing change requests through the whole edge, side by side with a trivial route.

Starts the real server (`billing-gateway serve`) on a fresh database, then:
1. one request at a time from this process (httpx): p50 and p99 of filing an IBAN change and of
   /health/live; their difference is what the edge (auth, idempotency, validation, encryption,
   database, audit) adds;
2. throughput from a second process, `wrk` over loopback with fixed connections: requests/s
   accepted for both routes (Debian: `apt-get install wrk`; without it this step is skipped),
   with the CPU a request costs the server and PostgreSQL during each run (from /proc: what
   other load on a shared machine changes least, so where the ratio comes from).

    make bench            # or: .venv/bin/python bench/intake.py --workers 2 --seconds 10
Targets, on ratios to the trivial route of the same run (design: performance.md): filing at
>= 15 % of its rate under wrk, every answer 2xx; added p50 <= 3 ms and p99 <= 15 ms one request
at a time. Exits non-zero when one is missed; bench/results/intake.json keeps the last runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from schwifty import IBAN

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The shared helpers live in kit.py; the other benches import them from here too.
from kit import (
    ROOT,
    Bound,
    CpuMeter,
    Ratio,
    drop_database,
    finish,
    percentile,
    prepare_database,
    report,
    start_server,
    wrk_figures,
)

__all__ = [  # the helpers other benches import from here (they moved to kit.py)
    "ROOT",
    "drop_database",
    "percentile",
    "prepare_database",
    "random_iban",
    "start_server",
    "wrk_figures",
]


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


WRK_THREADS = 2
_LETTERS = str.maketrans("0123456789", "ghijklmnop")  # letters keep digit runs short (intake.lua)


def fresh_ibans(count: int) -> list[str]:
    """`count` distinct IBANs (rounded up to a multiple of the wrk threads, which take every
    WRK_THREADS-th line each: intake.lua), for a wrk run that files each once."""
    ibans: set[str] = set()
    wanted = -(-count // WRK_THREADS) * WRK_THREADS
    while len(ibans) < wanted:
        ibans.add(random_iban())
    return list(ibans)


def iban_change_body(iban: str | None = None) -> dict[str, object]:
    return {
        "kind": "iban_change",
        "ticket": {"system": "zendesk", "id": f"t{uuid.uuid4().hex[:12]}"},
        "customer": {"zuora_account_id": "A00000101", "backoffice_id": "shop-101"},
        "requester": {"name": "Bench"},
        "contact_reasons": ["Billing > Bank details"],
        "payload": {
            "iban": iban or random_iban(),
            "account_holder": "Atelier",
            "account_holder_email": "compta@atelier.example",  # Stripe's SEPA mandate needs it
            "targets": ["zuora_collection", "stripe_customer_debit"],
        },
    }


async def sequential(
    base: str, key: str, trivial: bool, count: int, on_file: bool = False
) -> list[float]:
    """One request after another: the trivial route, or filings, each with a new IBAN, or with
    `on_file` the second filing of a new IBAN (the first, not timed, puts it on file)."""
    timings = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def file(iban: str) -> httpx.Response:
            return await client.post(
                "/v1/change-requests",
                json=iban_change_body(iban),
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": uuid.uuid4().hex},
            )

        for _ in range(count):
            iban = random_iban()
            if on_file:
                answered(await file(iban))
            started = time.perf_counter()
            response = await client.get("/health/live") if trivial else await file(iban)
            timings.append((time.perf_counter() - started) * 1000)
            answered(response)
    return timings


def answered(response: httpx.Response) -> None:
    if response.status_code >= 300:
        raise SystemExit(f"unexpected answer {response.status_code}: {response.text[:300]}")


def wrk(
    base: str, key: str, trivial: bool, seconds: float, connections: int, meter: CpuMeter
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as ibans:
        # A new IBAN for every filing of the run (intake.lua): 2,000 a second is more than
        # these machines file; an IBAN on file is measured one request at a time instead.
        ibans.write("\n".join(fresh_ibans(int(seconds * 2000))))
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds:.0f}s", "--latency"]
    if not trivial:
        command += ["-s", str(ROOT / "bench" / "intake.lua")]
    target = f"{base}/health/live" if trivial else base
    run = uuid.uuid4()
    environment = {
        **os.environ,
        "BENCH_KEY": key,
        "BENCH_IBANS": ibans.name,
        "BENCH_THREADS": str(WRK_THREADS),
        "BENCH_RUN": run.hex[:8].translate(_LETTERS),  # new tickets and keys each run
        "BENCH_RUN_HEX": run.hex[:8],
    }
    meter.start()
    figures = wrk_figures([*command, target], environment)
    server_s, database_s = meter.stop()
    answered = max(figures["requests"], 1.0)
    figures["server_cpu_ms"] = server_s * 1000 / answered
    figures["postgres_cpu_ms"] = database_s * 1000 / answered
    return figures


def measure(
    base: str, key: str, seconds: float, connections: int, meter: CpuMeter
) -> dict[str, object]:
    asyncio.run(sequential(base, key, True, 50))  # warm up both paths
    asyncio.run(sequential(base, key, False, 50))
    trivial = asyncio.run(sequential(base, key, True, 400))
    filing = asyncio.run(sequential(base, key, False, 400))
    on_file = asyncio.run(sequential(base, key, False, 200, on_file=True))
    figures: dict[str, object] = {
        "sequential": {
            # No target: the statement finds the IBAN filed once before, the filing reads who
            # has it and files again (a round trip more than a new IBAN's filing).
            "iban_on_file_p50_ms": statistics.median(on_file),
            "trivial_p50_ms": statistics.median(trivial),
            "trivial_p99_ms": percentile(trivial, 0.99),
            "filing_p50_ms": statistics.median(filing),
            "filing_p99_ms": percentile(filing, 0.99),
            "added_p50_ms": statistics.median(filing) - statistics.median(trivial),
            "added_p99_ms": percentile(filing, 0.99) - percentile(trivial, 0.99),
        }
    }
    if shutil.which("wrk"):
        figures["load_trivial"] = wrk(base, key, True, seconds, connections, meter)
        figures["load_filing"] = wrk(base, key, False, seconds, connections, meter)
    return figures


def checks(figures: dict[str, object]) -> list[Ratio | Bound]:
    sequential = figures["sequential"]
    assert isinstance(sequential, dict)
    beside = "filing minus /health/live on the same server, one request at a time"
    found: list[Ratio | Bound] = [
        Bound("filing, added p50", sequential["added_p50_ms"], "ms", at_most=3.0, why=beside),
        Bound("filing, added p99", sequential["added_p99_ms"], "ms", at_most=15.0, why=beside),
    ]
    filing, trivial = figures.get("load_filing"), figures.get("load_trivial")
    if isinstance(filing, dict) and isinstance(trivial, dict):
        found.append(
            Ratio(
                "filing, requests/s (wrk)",
                filing["per_s"],
                "trivial route /health/live, requests/s (wrk)",
                trivial["per_s"],
                at_least=0.15,
            )
        )
        failed = filing["not_2xx"] + filing["timeouts"]
        found.append(Bound("filing under wrk, not 2xx or timed out", failed, "answers", at_most=0))
    return found


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
        figures = measure(base, key, arguments.seconds, arguments.connections, CpuMeter(server))
    finally:
        server.terminate()
        server.wait(timeout=30)
        asyncio.run(drop_database(server_url, url))
    sequential = figures["sequential"]
    assert isinstance(sequential, dict)
    print("\nOne request at a time (ms)   trivial route   file a change request   added")
    for label in ("p50", "p99"):
        print(
            f"  {label}                        {sequential[f'trivial_{label}_ms']:13.2f}"
            f"   {sequential[f'filing_{label}_ms']:21.2f}   {sequential[f'added_{label}_ms']:5.2f}"
        )
    print(f"  p50 filing an IBAN already on file: {sequential['iban_on_file_p50_ms']:.2f} ms")
    for name in ("load_trivial", "load_filing"):
        row = figures.get(name)
        if isinstance(row, dict):
            print(
                f"  wrk {name[5:]:8} {row['per_s']:10.1f}/s  not 2xx {row['not_2xx']:.0f}"
                f"  p50 {row['p50_ms']:.2f} ms  p99 {row['p99_ms']:.2f} ms"
                f"  CPU a request: server {row['server_cpu_ms']:.3f} ms,"
                f" PostgreSQL {row['postgres_cpu_ms']:.3f} ms"
            )
    met = report("intake", checks(figures), figures)
    if "load_filing" not in figures:
        print("wrk is not installed (Debian: apt-get install wrk): throughput not measured")
        met = False
    finish(met)


if __name__ == "__main__":
    main()
