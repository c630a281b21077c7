"""The bench kit: targets as ratios to a floor measured in the same run, one table, kept results.

Every bench measures its figure beside a floor (a trivial route, a plain INSERT, the bare SDK
sequence) in the same run and states its target on figure / floor: the machines are shared, and
absolute rates move by 2x between two runs of the same build (design: performance.md). `report`
prints the table, keeps bench/results/<bench>.json with the last runs, and flags regressions
against the previous run; `finish` exits non-zero when a target was missed.

Also the helpers every bench shares: a fresh database (DATABASE_URL's server or an embedded
one, stopped at exit), the real server in a subprocess, percentiles and wrk's figures.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import httpx
import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS_DIR = ROOT / "bench" / "results"
HISTORY = 10
REGRESSION = 0.10  # worse than the last recorded run by more than this share
# Read when the bench starts: by the time report() runs, the bench itself is the load.
LOAD_BEFORE = os.getloadavg()


@dataclass(frozen=True)
class Ratio:
    """A figure measured beside its floor in the same run; the target is on figure / floor."""

    figure: str  # e.g. "filing, requests/s (wrk)"
    value: float
    floor: str  # e.g. "trivial route /health/live, requests/s"
    floor_value: float
    at_least: float | None = None  # target on value / floor_value, e.g. 0.15
    at_most: float | None = None  # e.g. 1.5 (audit append cost vs plain INSERT)


@dataclass(frozen=True)
class Bound:
    """An absolute bound the design names beside a ratio (p99 < 50 ms, <= 120 bytes/entry,
    added p50 <= 3 ms); say in `why` what it is measured beside."""

    figure: str
    value: float
    unit: str
    at_least: float | None = None
    at_most: float | None = None
    why: str = ""


def _measured(check: Ratio | Bound) -> float:
    """What the target is on: the ratio for a Ratio, the value for a Bound."""
    if isinstance(check, Bound):
        return check.value
    if check.floor_value == 0:
        return math.nan
    return check.value / check.floor_value


def _met(check: Ratio | Bound) -> bool:
    measured = _measured(check)
    if math.isnan(measured):
        return False
    if check.at_least is not None and measured < check.at_least:
        return False
    return not (check.at_most is not None and measured > check.at_most)


def _target(check: Ratio | Bound) -> str:
    unit = "x" if isinstance(check, Ratio) else f" {check.unit}"
    parts = []
    if check.at_least is not None:
        parts.append(f">= {check.at_least:g}{unit}")
    if check.at_most is not None:
        parts.append(f"<= {check.at_most:g}{unit}")
    return " and ".join(parts) or "(none)"


def _regressed(check: Ratio | Bound, before: float) -> bool:
    """More than REGRESSION worse than `before`, in the direction the target names."""
    now = _measured(check)
    if math.isnan(now) or math.isnan(before):
        return False
    if check.at_least is not None:
        return now < before * (1 - REGRESSION)
    if check.at_most is not None:
        # a bound of 0 (no failed answers) regresses on any rise
        return now > before * (1 + REGRESSION) if before > 0 else now > before
    return False


def _previous(bench: str) -> dict[str, object]:
    path = RESULTS_DIR / f"{bench}.json"
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return kept if isinstance(kept, dict) else {}


def _last_measured(previous: dict[str, object]) -> dict[str, float]:
    """The previous run's measured figure (ratio or value), by figure name."""
    found: dict[str, float] = {}
    checks = previous.get("checks")
    if not isinstance(checks, list):  # a results file from before the kit
        return found
    for row in checks:
        if isinstance(row, dict) and isinstance(row.get("measured"), int | float):
            found[str(row["figure"])] = float(row["measured"])
    return found


def _number(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def report(
    bench: str, checks: list[Ratio | Bound], figures: dict[str, object] | None = None
) -> bool:
    """Print one table: figure, value, floor, floor value, ratio, target, met/MISSED, and the
    previous run's ratio (or value) with 'regressed' when more than 10 % worse than the last
    recorded run. Keep bench/results/<bench>.json = {"at": iso time, "machine": {cpus, load
    average before the run}, "checks": [...], "figures": figures, "history": [last 10 runs'
    checks]}. Returns True when every target is met (regressions are reported, not failed)."""
    previous = _previous(bench)
    before = _last_measured(previous)
    load = ", ".join(f"{value:.2f}" for value in LOAD_BEFORE)
    print(f"\n{bench}: {os.cpu_count()} cpus, load average before the run {load}")
    header = ("figure", "value", "floor", "floor value", "ratio", "target", "result", "previous")
    rows: list[tuple[str, ...]] = [header]
    kept: list[dict[str, object]] = []
    regressions = 0
    for check in checks:
        measured, met = _measured(check), _met(check)
        last = before.get(check.figure)
        regressed = last is not None and _regressed(check, last)
        regressions += regressed
        was = "" if last is None else _number(last) + (" regressed" if regressed else "")
        if isinstance(check, Ratio):
            value, floor = _number(check.value), check.floor
            floor_value, ratio = _number(check.floor_value), _number(measured)
        else:
            value, floor, floor_value, ratio = f"{_number(check.value)} {check.unit}", "", "", ""
        verdict = "met" if met else "MISSED"
        rows.append((check.figure, value, floor, floor_value, ratio, _target(check), verdict, was))
        kept.append({**asdict(check), "kind": type(check).__name__, "measured": measured})
        kept[-1]["met"] = met
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    for check in checks:
        if isinstance(check, Bound) and check.why:
            print(f"  ({check.figure}: {check.why})")
    met_all = all(_met(check) for check in checks)
    missed = sum(not _met(check) for check in checks)
    summary = "every target met" if met_all else f"{missed} target(s) MISSED"
    if regressions:
        summary += f"; {regressions} figure(s) regressed > {REGRESSION:.0%} since the last run"
    print(f"  {bench}: {summary}")
    history = previous.get("history")
    past = history if isinstance(history, list) else []
    if isinstance(previous.get("checks"), list):
        past = [*past, {"at": previous.get("at"), "checks": previous["checks"]}]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    document = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_average_before": list(LOAD_BEFORE)},
        "checks": kept,
        "figures": figures or {},
        "history": past[-HISTORY:],
    }
    (RESULTS_DIR / f"{bench}.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    return met_all


def finish(met: bool) -> NoReturn:
    sys.exit(0 if met else 1)


_server: str | None = None  # the server prepare_database creates databases on


def _stop_embedded(data_dir: Path) -> None:
    """Stop the embedded server and remove its files: a bench's data is thrown away."""
    from gateway.core.db.server import stop_embedded_server

    stop_embedded_server()
    shutil.rmtree(data_dir, ignore_errors=True)


async def prepare_database() -> tuple[str, str, str]:
    """A fresh database on DATABASE_URL's server (or an embedded one, stopped when this process
    exits) and an API key: (server url, database url, key)."""
    from gateway.core.db.server import (
        create_database_if_missing,
        start_embedded_server,
        with_database,
    )

    global _server
    # Kept for a second call in this process: DATABASE_URL is then set to the bench's database.
    _server = _server or os.environ.get("DATABASE_URL")
    if not _server:
        data_dir = Path(tempfile.mkdtemp(prefix="bg-bench-"))
        _server = start_embedded_server(data_dir)
        atexit.register(_stop_embedded, data_dir)
    server = _server
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    url: str, workers: int, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`billing-gateway serve` on a free port against `url`, once ready: (process, base url).
    `env` adds to (or overrides) this process's environment for the server only."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "BG_LOG_FORMAT": "json",
        "BG_RATE_LIMIT_PER_MINUTE": "10000000",
        # the sandbox emulators it serves: free ports, not the defaults another run may hold
        "BG_ZUORA_EMULATOR_PORT": str(free_port()),
        "BG_STRIPE_EMULATOR_PORT": str(free_port()),
        **(env or {}),
    }
    # The server logs to stderr: thrown away, as writing it costs time under load, unless asked.
    log_path = os.environ.get("BG_BENCH_SERVER_LOG")
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--workers", str(workers)],
        env=environment,
        cwd=ROOT,  # `-m` puts the working directory first: bench/audit.py would hide `audit`
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # loading 1,000,000 blocklist entries on a busy machine
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    process.wait()
    where = f"see {log_path}" if log_path else "set BG_BENCH_SERVER_LOG=<file> to keep its log"
    raise SystemExit(f"the server did not start ({where})")


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


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
    sent = re.search(r"(\d+) requests in", output)
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: .*timeout (\d+)", output)
    assert rate, output
    return {
        "per_s": float(rate.group(1)),
        "requests": float(sent.group(1)) if sent else 0.0,
        "not_2xx": float(failed.group(1)) if failed else 0.0,
        "timeouts": float(errors.group(1)) if errors else 0.0,
        "p50_ms": milliseconds("50%"),
        "p99_ms": milliseconds("99%"),
    }


def cpu_by_process(processes: list[psutil.Process]) -> dict[int, float]:
    """User and system CPU seconds used so far by each of these processes (gone ones left out)."""
    used = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        used[process.pid] = times.user + times.system
    return used


def server_and_database(server: subprocess.Popen[bytes]) -> tuple[list[psutil.Process], ...]:
    """The server's processes (workers included) and PostgreSQL's on this machine (empty with
    PostgreSQL on another machine)."""
    root = psutil.Process(server.pid)
    database = [
        process
        for process in psutil.process_iter(["name"])
        if (process.info["name"] or "").startswith("postgres")
    ]
    return [root, *root.children(recursive=True)], database


class CpuMeter:
    """CPU seconds the server and PostgreSQL spend between `start` and `stop`: what a request
    costs, which other load on a shared machine changes far less than a rate. Processes started
    meanwhile (a pool's new connection) count whole; one that ended meanwhile is missed."""

    def __init__(self, server: subprocess.Popen[bytes]) -> None:
        self._server = server
        self._before: tuple[dict[int, float], ...] = ({}, {})

    def start(self) -> None:
        self._before = tuple(cpu_by_process(group) for group in server_and_database(self._server))

    def stop(self) -> tuple[float, float]:
        """(server seconds, PostgreSQL seconds) since `start`."""
        now = [cpu_by_process(group) for group in server_and_database(self._server)]
        server, database = (
            sum(used - before.get(pid, 0.0) for pid, used in after.items())
            for after, before in zip(now, self._before, strict=True)
        )
        return server, database
