"""The audit trail's cost: sustained concurrent appends (encrypted, MAC'd, then chained by the
sealer running alongside) beside a plain INSERT of the same rows, and verification of the chain.

Fair by construction: the plain table has the same columns and the same indexes that serve the
same queries ((action, occurred_at), target_id); its `data` holds the same payload, unencrypted.
Both sides run the same processes, writers and pool, one autocommitted statement per row, and
the audit writers hold their customers' data keys before the window opens, as a running process
does. What the audit side adds is its cost: masking, encryption, the MAC (and its unique index,
which refuses a copied entry), the live-key check, and the sealer's chaining in a process of
its own. Phases run plain, audit, audit, plain, so a machine getting busier or quieter during
the run weighs on both sides alike.

Cost is measured twice: in CPU time per entry (the writer processes, the sealer, and their
PostgreSQL backends, read from /proc: what other load on a shared machine does not change) and
in wall time per entry (the throughput, which it does).

    make bench            # or: .venv/bin/python bench/audit.py --seconds 10
Exits non-zero when an append costs more than 1.5x a plain INSERT, or one core verifies fewer
than 50,000 entries/s (design: performance.md). Results: bench/results/audit.json (bench/kit.py).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import Bound, Ratio, drop_database, finish, prepare_database, report

COST_AT_MOST = 1.5  # an append's cost over a plain INSERT's
VERIFIED_AT_LEAST = 50_000.0  # entries/s
CUSTOMERS = 500  # the subjects entries are filed under, each with its data key
PLAIN = """
CREATE TABLE IF NOT EXISTS bench_plain_audit (
    id bigserial PRIMARY KEY, occurred_at timestamptz, actor_type varchar(20),
    actor_id varchar(100), action varchar(100), target_type varchar(50), target_id text,
    request_id varchar(100), subject varchar(200), data jsonb);
CREATE INDEX IF NOT EXISTS bench_plain_audit_action_time ON bench_plain_audit (action, occurred_at);
CREATE INDEX IF NOT EXISTS bench_plain_audit_target ON bench_plain_audit (target_id)
"""  # audit_records' indexes less the MAC's: the difference is what the audit trail guarantees


def entry(number: int) -> Any:
    from audit.actions import Action
    from audit.entry import Actor, AuditEntry

    return AuditEntry(
        action=Action.CHANGE_REQUEST_PROCESS_SUCCEEDED,
        actor=Actor(kind="staff", id=str(number % 20), role="specialist"),
        about={"id": f"cr-{number}", "backoffice_id": f"cus_{number % CUSTOMERS}"},
        reason="customer asked by phone",
        before={"status": "in_progress"},
        after={"status": "processed", "note": "new mandate signed", "reasons": ["Billing"]},
    )


class Phase:
    """Barriers around the timed window, shared with the main process: it reads the PostgreSQL
    backends' CPU once every process has connected, and again before any disconnects."""

    def __init__(self, context: Any, processes: int) -> None:
        self.start = context.Barrier(processes + 1)
        self.done = context.Barrier(processes + 1)
        self.release = context.Event()

    async def timed(self, work: Any) -> tuple[int, float]:
        """(what `work()` counted, this process's CPU seconds for it)."""
        await asyncio.to_thread(self.start.wait)  # start-up is not timed
        cpu = time.process_time()
        count = await work()
        cpu = time.process_time() - cpu
        await asyncio.to_thread(self.done.wait)
        await asyncio.to_thread(self.release.wait)
        return count, cpu


async def _sealer(seconds: float, phase: Phase) -> tuple[int, float]:
    """The sealer, as the worker runs it, chaining while the writers write."""
    from audit.chain import seal_pending
    from gateway.core.db.connection import close_pool, start_pool

    async def seal() -> int:
        stop, sealed = time.perf_counter() + seconds, 0
        while time.perf_counter() < stop:
            sealed += await seal_pending(everything=False)
            await asyncio.sleep(0.5)
        return sealed

    await start_pool(2)
    result = await phase.timed(seal)
    await close_pool()
    return result


async def _writers(
    kind: str, writers: int, seconds: float, offset: int, phase: Phase
) -> tuple[int, float]:
    if kind == "sealer":
        return await _sealer(seconds, phase)
    import msgspec

    from audit.store import append
    from gateway.core.db.connection import close_pool, fetch, start_pool

    await start_pool(writers + 1)
    await asyncio.gather(*(fetch("SELECT 1") for _ in range(writers)))  # connections open
    if kind == "audit":  # a process that has been running holds its customers' data keys
        from audit.store import subject_keys

        for customer in range(CUSTOMERS):
            await subject_keys().for_writing(f"cus_{customer}")
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
            msgspec.json.encode(
                {
                    "actor_role": item.actor.role,
                    "reason": item.reason,
                    "before": item.before,
                    "after": item.after,
                    "provider_request_ids": item.provider_request_ids,
                }
            ).decode(),
        )

    async def writer(index: int, stop: float) -> None:
        number = offset + index * 10_000_000
        while time.perf_counter() < stop:
            if kind == "audit":
                await append(entry(number))
            else:
                await plain(number)
            number += 1
            counts[index] += 1

    async def write() -> int:
        stop = time.perf_counter() + seconds
        await asyncio.gather(*(writer(index, stop) for index in range(writers)))
        return sum(counts)

    result = await phase.timed(write)
    await close_pool()
    return result


def _process(
    kind: str, writers: int, seconds: float, offset: int, url: str, out: Any, phase: Phase
) -> None:
    os.environ["DATABASE_URL"] = url
    import gateway.core.db  # noqa: F401  (points Piccolo at the database)

    out.put((kind, *asyncio.run(_writers(kind, writers, seconds, offset, phase))))


async def _backends(url: str) -> list[int]:
    """The process ids of the bench database's backends (this connection's left out)."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


def _cpu_of(pids: list[int]) -> dict[int, float] | None:
    """CPU seconds so far of each backend; None when PostgreSQL runs on another machine (its
    /proc is not ours)."""
    used, ticks = {}, os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return used


def _backend_cpu(url: str) -> dict[int, float] | None:
    return _cpu_of(asyncio.run(_backends(url)))


@dataclass(frozen=True)
class Run:
    rate: float  # entries/s over the timed window
    cpu_us: float  # CPU microseconds per entry: writers, sealer and their backends (nan: n/a)


def run_writers(kind: str, processes: int, writers: int, seconds: float, url: str) -> Run:
    """Entries per second over the timed window, which opens once every process has imported
    and connected (a barrier), so that start-up is not counted; and the CPU they took."""
    context = multiprocessing.get_context("spawn")
    kinds = [kind] * processes
    if kind == "audit":  # the sealer runs alongside; what it seals is not counted as appends
        kinds.append("sealer")
    queue: Any = context.Queue()
    phase = Phase(context, len(kinds))
    workers = [
        context.Process(
            target=_process,
            args=(who, writers, seconds, index * 100_000_000, url, queue, phase),
        )
        for index, who in enumerate(kinds)
    ]
    for worker in workers:
        worker.start()
    phase.start.wait()
    backends_before = _backend_cpu(url)
    phase.done.wait()
    backends_after = _backend_cpu(url)
    phase.release.set()
    results = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    total = sum(count for who, count, _cpu in results if who != "sealer")
    sealed = sum(count for who, count, _cpu in results if who == "sealer")
    if kind == "audit":
        print(f"  (the sealer chained {sealed} of {total} entries while they were written)")
    cpu = math.nan
    if backends_before is not None and backends_after is not None:
        backends = sum(used - backends_before.get(pid, 0.0) for pid, used in backends_after.items())
        cpu = sum(used for _who, _count, used in results) + backends
        mine = {who: sum(used for name, _c, used in results if name == who) for who in kinds}
        shares = {**mine, "backends": backends}
        print(
            f"  ({kind}: CPU us per entry, "
            + ", ".join(f"{who} {used / total * 1e6:.0f}" for who, used in shares.items())
            + ")"
        )
    return Run(total / seconds, cpu / total * 1e6)


async def _seal_and_verify(url: str) -> dict[str, float]:
    os.environ["DATABASE_URL"] = url
    import gateway.core.db  # noqa: F401
    from audit.chain import seal_pending, verify
    from gateway.core.db.connection import close_pool, fetch, start_pool

    await start_pool(4)
    started = time.perf_counter()
    sealed = await seal_pending()
    seal_rate = sealed / (time.perf_counter() - started) if sealed else 0.0
    await asyncio.gather(*(fetch("SELECT 1") for _ in range(4)))  # all connected: all counted
    pids = await _backends(url)
    backends, cpu, started = _cpu_of(pids), time.process_time(), time.perf_counter()
    verdict = await verify()
    verify_rate = verdict.entries / (time.perf_counter() - started)
    cpu = time.process_time() - cpu
    backends_after = _cpu_of(pids)
    if backends is not None and backends_after is not None:
        cpu += sum(used - backends[pid] for pid, used in backends_after.items())
    else:
        cpu = math.nan
    plain_started = time.perf_counter()
    rows = await fetch("SELECT * FROM bench_plain_audit ORDER BY id")
    plain_read = len(rows) / (time.perf_counter() - plain_started)
    await close_pool()
    assert verdict.ok, verdict
    return {
        "entries": float(verdict.entries),
        "seal_per_s": seal_rate,
        "verify_per_s": verify_rate,
        "verify_per_cpu_s": verdict.entries / cpu if cpu > 0 else math.nan,
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
    parser.add_argument("--seconds", type=float, default=10, help="per side, in two phases")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--writers", type=int, default=8, help="per process")
    arguments = parser.parse_args()
    phase = arguments.seconds / 2
    server_url, url, _key = asyncio.run(prepare_database())
    runs: dict[str, list[Run]] = {"plain": [], "audit": []}
    try:
        asyncio.run(_plain_table(url))
        for kind in ("plain", "audit", "audit", "plain"):
            runs[kind].append(run_writers(kind, arguments.processes, arguments.writers, phase, url))
        chain = asyncio.run(_seal_and_verify(url))
    finally:
        asyncio.run(drop_database(server_url, url))
    plain, audit = (_mean(runs["plain"], "rate"), _mean(runs["audit"], "rate"))
    plain_cpu, audit_cpu = (_mean(runs["plain"], "cpu_us"), _mean(runs["audit"], "cpu_us"))
    print(
        f"\naudit trail, {arguments.processes} processes x {arguments.writers} writers,"
        f" {phase:g} s a phase, in the order plain, audit, audit, plain:"
        f" plain {_each(runs['plain'])}; audit {_each(runs['audit'])}"
    )
    checks: list[Ratio | Bound] = [
        # What an entry costs the machine: robust to other load, which takes wall time but
        # not this bench's CPU (PostgreSQL's shared WAL writer and checkpointer left out).
        Ratio(
            "append cost (encrypted, chained), CPU us per entry",
            audit_cpu,
            "plain INSERT of the same rows, CPU us per row",
            plain_cpu,
            at_most=COST_AT_MOST,
        ),
        # The same as the machine's throughput allows: it moves with whatever else runs.
        Ratio(
            "append cost (encrypted, chained), wall us per entry",
            1e6 / audit,
            "plain INSERT of the same rows, wall us per row",
            1e6 / plain,
            at_most=COST_AT_MOST,
        ),
        # What one core verifies (the verifier and its backend, by CPU time): the design's
        # 50,000/s on a quiet machine, and robust to other load, unlike the wall rate below.
        Bound(
            "verification, entries per CPU second",
            chain["verify_per_cpu_s"],
            "entries/s",
            at_least=VERIFIED_AT_LEAST,
            why="the verifier's CPU and its PostgreSQL backend's, from /proc",
        ),
        # No target: a rate in wall time on a shared machine moves with whatever else runs. A
        # plain SELECT of the same rows is no floor either: it measures the server streaming
        # rows, verification is hashing in Python.
        Bound(
            "verification, entries/s (wall)",
            chain["verify_per_s"],
            "entries/s",
            why=f"plain SELECT of the same rows {chain['plain_read_per_s']:,.0f} rows/s",
        ),
    ]
    figures = {
        "appends_per_s": round(audit),
        "plain_inserts_per_s": round(plain),
        "append_cpu_us": round(audit_cpu, 1),
        "plain_insert_cpu_us": round(plain_cpu, 1),
        "entries_verified": int(chain["entries"]),
        "seal_per_s": round(chain["seal_per_s"]),
        "verify_per_s": round(chain["verify_per_s"]),
        "verify_per_cpu_s": round(chain["verify_per_cpu_s"], 1),
        "plain_read_per_s": round(chain["plain_read_per_s"]),
        "processes": arguments.processes,
        "writers_per_process": arguments.writers,
    }
    finish(report("audit", checks, figures))


def _mean(found: list[Run], name: str) -> float:
    return float(sum(getattr(run, name) for run in found)) / len(found)


def _each(found: list[Run]) -> str:
    return " and ".join(f"{run.rate:,.0f}/s ({run.cpu_us:.0f} CPU us each)" for run in found)


if __name__ == "__main__":
    main()
