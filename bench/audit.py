"""The audit trail's rates: sustained concurrent appends (encrypted, then chained by the sealer
running alongside) and verification of the whole chain, side by side with a plain unencrypted
INSERT of the same rows into a table of the same shape.

Runs on a fresh database (DATABASE_URL's server, or an embedded one), with `--processes`
writer processes, each with `--writers` concurrent writers on its own connection pool.

    make bench            # or: .venv/bin/python bench/audit.py --seconds 10
Exits non-zero under 5,000 appends/s or 50,000 verified entries/s. Figures go to
bench/results/audit.json beside the previous run's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from intake import ROOT, drop_database, prepare_database

RESULTS = ROOT / "bench" / "results" / "audit.json"
TARGET_APPENDS = 5_000.0
TARGET_VERIFIED = 50_000.0
PLAIN = """
CREATE TABLE IF NOT EXISTS bench_plain_audit (
    id bigserial PRIMARY KEY, occurred_at timestamptz, actor_type varchar(20),
    actor_id varchar(100), action varchar(100), target_type varchar(50), target_id text,
    request_id varchar(100), subject varchar(200), data jsonb);
CREATE INDEX IF NOT EXISTS bench_plain_audit_action ON bench_plain_audit (action);
CREATE INDEX IF NOT EXISTS bench_plain_audit_target ON bench_plain_audit (target_id)
"""  # the same indexes as audit_records: the difference is encryption and the chain


def entry(number: int) -> Any:
    from audit.actions import Action
    from audit.entry import Actor, AuditEntry

    return AuditEntry(
        action=Action.CHANGE_REQUEST_PROCESS_SUCCEEDED,
        actor=Actor(kind="staff", id=str(number % 20), role="specialist"),
        about={"id": f"cr-{number}", "backoffice_id": f"cus_{number % 500}"},
        reason="customer asked by phone",
        before={"status": "in_progress"},
        after={"status": "processed", "note": "new mandate signed", "reasons": ["Billing"]},
    )


async def _sealer(seconds: float, start: Any) -> int:
    """The sealer, as the worker runs it, chaining while the writers write."""
    from audit.chain import seal_pending
    from gateway.core.db.connection import close_pool, start_pool

    await start_pool(2)
    await asyncio.to_thread(start.wait)
    stop, sealed = time.perf_counter() + seconds, 0
    while time.perf_counter() < stop:
        sealed += await seal_pending(everything=False)
        await asyncio.sleep(0.5)
    await close_pool()
    return sealed


async def _writers(kind: str, writers: int, seconds: float, offset: int, start: Any) -> int:
    if kind == "sealer":
        return await _sealer(seconds, start)
    import msgspec

    from audit.store import append
    from gateway.core.db.connection import close_pool, fetch, start_pool

    await start_pool(writers + 1)
    await asyncio.gather(*(fetch("SELECT 1") for _ in range(writers)))  # connections open
    await asyncio.to_thread(start.wait)  # start-up is not timed
    stop = time.perf_counter() + seconds
    counts = [0] * writers

    async def plain(number: int) -> None:
        item = entry(number)
        await fetch(
            "INSERT INTO bench_plain_audit (occurred_at, actor_type, actor_id, action,"
            " target_type, target_id, request_id, subject, data)"
            " VALUES (now(), $1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
            item.actor.kind,
            item.actor.id,
            item.action.value,
            item.action.target_type,
            item.target,
            None,
            item.subject,
            msgspec.json.encode({"before": item.before, "after": item.after}).decode(),
        )

    async def writer(index: int) -> None:
        number = offset + index * 10_000_000
        while time.perf_counter() < stop:
            if kind == "audit":
                await append(entry(number))
            else:
                await plain(number)
            number += 1
            counts[index] += 1

    await asyncio.gather(*(writer(index) for index in range(writers)))
    await close_pool()
    return sum(counts)


def _process(
    kind: str, writers: int, seconds: float, offset: int, url: str, out: Any, start: Any
) -> None:
    os.environ["DATABASE_URL"] = url
    import gateway.core.db  # noqa: F401  (points Piccolo at the database)

    out.put((kind, asyncio.run(_writers(kind, writers, seconds, offset, start))))


def run_writers(kind: str, processes: int, writers: int, seconds: float, url: str) -> float:
    """Appends per second over the timed window, which opens once every process has imported
    and connected (a barrier), so that start-up is not counted."""
    context = multiprocessing.get_context("spawn")
    kinds = [kind] * processes
    if kind == "audit":  # the sealer runs alongside; what it seals is not counted as appends
        kinds.append("sealer")
    queue: Any = context.Queue()
    start = context.Barrier(len(kinds))
    workers = [
        context.Process(
            target=_process,
            args=(who, writers, seconds, index * 100_000_000, url, queue, start),
        )
        for index, who in enumerate(kinds)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    total = sum(count for who, count in results if who != "sealer")
    sealed = sum(count for who, count in results if who == "sealer")
    if kind == "audit":
        print(f"  (the sealer chained {sealed} of {total} entries while they were written)")
    return total / seconds


async def _seal_and_verify(url: str) -> dict[str, float]:
    os.environ["DATABASE_URL"] = url
    import gateway.core.db  # noqa: F401
    from audit.chain import seal_pending, verify
    from gateway.core.db.connection import close_pool, fetch, start_pool

    await start_pool(4)
    started = time.perf_counter()
    sealed = await seal_pending()
    seal_rate = sealed / (time.perf_counter() - started) if sealed else 0.0
    started = time.perf_counter()
    verdict = await verify()
    verify_rate = verdict.entries / (time.perf_counter() - started)
    plain_started = time.perf_counter()
    rows = await fetch("SELECT * FROM bench_plain_audit ORDER BY id")
    plain_read = len(rows) / (time.perf_counter() - plain_started)
    await close_pool()
    assert verdict.ok, verdict
    return {
        "entries": float(verdict.entries),
        "seal_per_s": seal_rate,
        "verify_per_s": verify_rate,
        "plain_read_per_s": plain_read,
    }


async def _plain_table(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    import gateway.core.db  # noqa: F401
    from gateway.core.db.connection import close_pool, fetch, start_pool

    await start_pool(1)
    for statement in PLAIN.split(";"):
        await fetch(statement)
    await close_pool()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--writers", type=int, default=8, help="per process")
    arguments = parser.parse_args()
    server_url, url, _key = asyncio.run(prepare_database())
    try:
        asyncio.run(_plain_table(url))
        plain = run_writers("plain", arguments.processes, arguments.writers, arguments.seconds, url)
        audit = run_writers("audit", arguments.processes, arguments.writers, arguments.seconds, url)
        chain = asyncio.run(_seal_and_verify(url))
    finally:
        asyncio.run(drop_database(server_url, url))
    figures = {
        "appends_per_s": round(audit),
        "plain_inserts_per_s": round(plain),
        "append_cost_vs_plain": round(plain / audit, 2),
        "entries_verified": int(chain["entries"]),
        "verify_per_s": round(chain["verify_per_s"]),
        "plain_read_per_s": round(chain["plain_read_per_s"]),
    }
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else None
    print(
        f"\naudit trail, {arguments.processes} processes x {arguments.writers} writers, "
        f"{arguments.seconds:.0f} s each"
    )
    print(
        f"  appends (encrypted)   {figures['appends_per_s']:>8}/s   "
        f"plain INSERT {figures['plain_inserts_per_s']:>8}/s   "
        f"({figures['append_cost_vs_plain']}x)"
    )
    print(
        f"  verifying             {figures['verify_per_s']:>8}/s   "
        f"plain SELECT {figures['plain_read_per_s']:>8}/s   "
        f"({figures['entries_verified']} entries)"
    )
    if previous:
        print(f"  previous run: {json.dumps(previous)}")
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    met = audit >= TARGET_APPENDS and chain["verify_per_s"] >= TARGET_VERIFIED
    print(
        f"targets: >= {TARGET_APPENDS:.0f} appends/s and >= {TARGET_VERIFIED:.0f} verified/s:"
        f" {'met' if met else 'MISSED'}"
    )
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
