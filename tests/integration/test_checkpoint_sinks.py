"""Signed audit checkpoints copied off the database's machine: to an HTTP endpoint (a real one on
loopback), to standard output for the log shipper, at least once, caught up after an outage."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from audit.actions import Action
from audit.chain import seal_pending
from audit.checkpoints import (
    Checkpoint,
    against_checkpoints,
    copy_off_host,
    public_key_of,
    write_checkpoint,
)
from audit.entry import SYSTEM, AuditEntry
from audit.sinks import CHECKPOINT_EVENT, HttpSink, pending_checkpoints
from audit.store import append
from gateway.core.db.connection import fetch, transaction
from settings import get_settings, reset_settings
from tests.app_log import captured_app_log
from tests.emulators import free_port


class Receiver:
    """An off-host checkpoint store: keeps each POSTed body, or answers `status` instead (500:
    it is failing; 307: it points elsewhere). Stopped, its port refuses connections."""

    def __init__(self) -> None:
        self.port = free_port()
        self.status = 204
        self.location = ""
        self.bodies: list[dict[str, Any]] = []
        self.requests = 0
        self._server: ThreadingHTTPServer | None = None

    def url(self, path: str = "/checkpoints") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the name http.server calls
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.requests += 1
                if receiver.status < 300 and self.path == "/checkpoints":
                    receiver.bodies.append(json.loads(raw))
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("location", receiver.location)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test asserts on what arrived."""

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def seqs(self) -> list[int]:
        return [int(body["seq"]) for body in self.bodies]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    started.start()
    yield started
    started.stop()


@pytest.fixture
def sink_setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set BG_AUDIT_CHECKPOINT_SINK for the process; the run's settings come back after."""
    yield monkeypatch
    monkeypatch.undo()
    reset_settings()


def _use_sink(setting: pytest.MonkeyPatch, value: str) -> None:
    setting.setenv("BG_AUDIT_CHECKPOINT_SINK", value)
    reset_settings()


async def _write_entries(count: int) -> None:
    for number in range(count):
        async with transaction():
            await append(
                AuditEntry(
                    action=Action.CHANGE_REQUEST_CONTACT_REASONS_RECORDED,
                    actor=SYSTEM,
                    about={},
                    target_id=str(number),
                )
            )
    await seal_pending()


async def _delivered(sink: str) -> list[int]:
    rows = await fetch(
        "SELECT seq FROM audit_checkpoint_deliveries WHERE sink = $1 ORDER BY seq", sink
    )
    return [int(row["seq"]) for row in rows]


async def test_the_http_sink_receives_each_checkpoint_once(receiver: Receiver) -> None:
    seed = get_settings().audit_signing_seed
    sink = HttpSink(receiver.url())
    await _write_entries(3)
    await write_checkpoint(seed, sink)
    await write_checkpoint(seed, sink)  # nothing new: nothing sent again
    await _write_entries(2)
    await write_checkpoint(seed, sink)

    assert receiver.seqs == [3, 5]
    kept = [Checkpoint(**body) for body in receiver.bodies]
    assert await against_checkpoints(kept, public_key_of(seed)) is None
    assert await pending_checkpoints(sink) == 0


async def test_a_failing_endpoint_keeps_the_checkpoint_for_the_next_run(
    receiver: Receiver, sink_setting: pytest.MonkeyPatch
) -> None:
    from audit.jobs import seal_and_checkpoint

    # Credentials in the URL go to the endpoint (basic auth), never to the log.
    url = receiver.url().replace("http://", "http://gateway:hunter2@")
    _use_sink(sink_setting, url)
    sink = HttpSink(url)
    receiver.status = 500
    await _write_entries(3)
    with captured_app_log() as log:
        assert await seal_and_checkpoint(0) == 0  # the job goes on
    assert receiver.requests == 1 and receiver.seqs == []
    assert [row["seq"] for row in await fetch("SELECT seq FROM audit_checkpoints")] == [3]
    assert await pending_checkpoints(sink) == 1
    warning = json.loads(log.getvalue().splitlines()[0])
    assert warning["level"] == "warning"
    assert warning["sink"] == sink.name and warning["reason"] == "answered 500"
    assert sink.name.startswith(f"http://127.0.0.1:{receiver.port} #")  # no path, no password
    assert warning["pending"] == 1
    assert "hunter2" not in log.getvalue()

    receiver.status = 204
    await seal_and_checkpoint(0)  # no new entry: the run still catches up
    assert receiver.seqs == [3]
    assert await pending_checkpoints(sink) == 0
    await seal_and_checkpoint(0)
    assert receiver.seqs == [3]


async def test_an_endpoint_that_is_down_gets_the_checkpoints_when_back(
    receiver: Receiver, sink_setting: pytest.MonkeyPatch
) -> None:
    from audit.jobs import seal_and_checkpoint

    _use_sink(sink_setting, receiver.url())
    receiver.stop()
    await _write_entries(2)
    await seal_and_checkpoint(0)
    await _write_entries(2)
    await seal_and_checkpoint(0)
    assert [row["seq"] for row in await fetch("SELECT seq FROM audit_checkpoints")] == [2, 4]
    assert await pending_checkpoints(HttpSink(receiver.url())) == 2

    receiver.start()
    await seal_and_checkpoint(0)
    assert receiver.seqs == [2, 4]
    assert await _delivered(HttpSink(receiver.url()).name) == [2, 4]


async def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    seed = get_settings().audit_signing_seed
    sink = HttpSink(receiver.url("/moved"))
    receiver.status, receiver.location = 307, receiver.url()
    await _write_entries(1)
    with captured_app_log() as log:
        await write_checkpoint(seed, sink)
    assert receiver.requests == 1  # the redirect target was never asked
    assert receiver.seqs == []
    assert await pending_checkpoints(sink) == 1
    assert "answered 307 (redirects are not followed)" in log.getvalue()


async def _gateway(*arguments: str, **environment: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        *arguments,
        env={**os.environ, "BG_LOG_FORMAT": "json", **environment},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, out.decode(), err.decode()


def _marked(stdout: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == CHECKPOINT_EVENT]


async def test_the_stdout_sink_prints_a_marked_line_the_verifier_reads(tmp_path: Path) -> None:
    seed = get_settings().audit_signing_seed
    await _write_entries(3)
    code, out, err = await _gateway("audit", "checkpoint", BG_AUDIT_CHECKPOINT_SINK="stdout")
    assert code == 0, err
    [line] = _marked(out)
    assert line["seq"] == 3 and line["public_key"] == public_key_of(seed)
    assert await _delivered("stdout") == [3]

    code, out, err = await _gateway("audit", "checkpoint", BG_AUDIT_CHECKPOINT_SINK="stdout")
    assert code == 0, err
    assert _marked(out) == []  # taken already: not printed again

    kept = tmp_path / "shipped.jsonl"  # what the log shipper kept, marker and all
    kept.write_text(json.dumps(line) + "\n")
    code, out, err = await _gateway(
        "audit", "verify", "--checkpoint", str(kept), BG_AUDIT_CHECKPOINT_SINK="stdout"
    )
    assert code == 0, out + err
    assert "1 signed checkpoints agree" in out


async def test_verify_without_the_copy_says_where_to_fetch_it(receiver: Receiver) -> None:
    code, out, err = await _gateway("audit", "verify", BG_AUDIT_CHECKPOINT_SINK=receiver.url())
    assert code == 0, out + err
    assert (
        "--checkpoint FILE, after fetching the copy from where it went "
        f"({HttpSink(receiver.url()).name})" in err
    )


def test_a_bad_sink_is_refused_at_start_naming_the_variable() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "audit", "checkpoint"],
        env={**os.environ, "BG_AUDIT_CHECKPOINT_SINK": "ftp://gateway:hunter2@backup/audit"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert (
        "BG_AUDIT_CHECKPOINT_SINK: Value error, ftp:// is not a sink: give a directory path,"
        " an http:// or https:// URL, or stdout" in result.stderr
    )
    assert "hunter2" not in result.stderr + result.stdout


async def test_a_long_backlog_is_sent_in_slices_oldest_first(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    import audit.checkpoints as checkpoints_module

    seed = get_settings().audit_signing_seed
    for _ in range(3):  # three checkpoints signed before the endpoint was configured
        await _write_entries(1)
        await write_checkpoint(seed, HttpSink(receiver.url("/elsewhere")))
    monkeypatch.setattr(checkpoints_module, "COPIES_PER_RUN", 2)
    sink = HttpSink(receiver.url())
    assert await copy_off_host(sink) == 2
    assert receiver.seqs == [1, 2] and await pending_checkpoints(sink) == 1
    assert await copy_off_host(sink) == 1
    assert receiver.seqs == [1, 2, 3]
