"""Where signed checkpoints are copied, off the database's machine (BG_AUDIT_CHECKPOINT_SINK):
a directory (one `checkpoints.jsonl`), an HTTP endpoint (each checkpoint POSTed as JSON), or
standard output (one JSON line each, for the log shipper).

Delivery is at least once: a checkpoint is stored in the database first, then copied; whatever
a sink has not taken (it was down, the process died in between) is copied by the next run. A
directory reads back what it holds; HTTP and stdout cannot, so what they took is recorded in
`audit_checkpoint_deliveries`. A receiver may therefore see a checkpoint twice: it dedupes by
`seq`.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from audit import queries
from gateway.core.db.connection import fetch
from settings.model import sink_problem

# The marker a log shipper filters on: the key structlog's JSON lines use for their message.
CHECKPOINT_EVENT = "audit.checkpoint"
FILE_NAME = "checkpoints.jsonl"
_HTTP_TIMEOUT = httpx.Timeout(10.0)

# (seq, the checkpoint as the JSON line the file holds)
CheckpointLine = tuple[int, str]


class SinkUnavailableError(Exception):
    """The sink did not take a checkpoint; it stays stored and is copied at the next run."""

    def __init__(self, sink: str, reason: str) -> None:
        super().__init__(f"{sink}: {reason}")
        self.sink, self.reason = sink, reason


class CheckpointSink(Protocol):
    # Names the sink in logs and in audit_checkpoint_deliveries: never a URL's credentials.
    name: str

    async def missing(self) -> set[int]:
        """The seqs of the stored checkpoints this sink does not have yet."""
        ...

    async def take(self, lines: Sequence[CheckpointLine]) -> None:
        """Copy the checkpoints, oldest first; SinkUnavailableError when it cannot."""
        ...


class DirectorySink:
    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME
        self.name = f"directory {folder}"

    async def missing(self) -> set[int]:
        stored = {int(row["seq"]) for row in await fetch(queries.CHECKPOINT_SEQS)}
        return stored - await asyncio.to_thread(_seqs_in, self.path)

    async def take(self, lines: Sequence[CheckpointLine]) -> None:
        try:
            await asyncio.to_thread(_append_lines, self.path, [line for _, line in lines])
        except OSError as error:  # disk full, no permission, the mount gone
            raise SinkUnavailableError(self.name, error.strerror or type(error).__name__) from None


class _RecordedSink:
    """A sink that cannot be read back: what it took is recorded, one row per checkpoint,
    right after it took it (a crash in between sends that one again)."""

    name: str

    async def missing(self) -> set[int]:
        # Only what is missing crosses the wire, not a year of delivered seqs.
        return {int(row["seq"]) for row in await fetch(queries.NOT_DELIVERED, self.name)}

    async def take(self, lines: Sequence[CheckpointLine]) -> None:
        for seq, line in lines:
            await self._send(line)
            await fetch(queries.DELIVERED, self.name, seq)

    async def _send(self, line: str) -> None:
        raise NotImplementedError


class HttpSink(_RecordedSink):
    """POSTs each checkpoint's JSON line; any 2xx means taken. Redirects are not followed: a
    checkpoint goes where the operator said, not where an answer points."""

    def __init__(self, url: str) -> None:
        self.url = url
        # Scheme, host and port, and a short digest of the whole URL to tell two endpoints on
        # one host apart: its credentials, path and query (where receivers often carry a
        # token) stay out of the name, which reaches logs, /metrics and the database.
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        digest = hashlib.sha256(url.encode()).hexdigest()[:8]
        self.name = f"{parts.scheme}://{host} #{digest}"

    async def _send(self, line: str) -> None:
        try:
            async with httpx.AsyncClient(timeout=_HTTP_TIMEOUT, follow_redirects=False) as client:
                answer = await client.post(
                    self.url, content=line, headers={"content-type": "application/json"}
                )
        except httpx.HTTPError as error:  # its message may quote the URL: the type only
            raise SinkUnavailableError(self.name, f"not reached ({type(error).__name__})") from None
        if not answer.is_success:
            followed = " (redirects are not followed)" if answer.is_redirect else ""
            raise SinkUnavailableError(self.name, f"answered {answer.status_code}{followed}")


class StdoutSink(_RecordedSink):
    """One JSON line per checkpoint on standard output, printed whole and flushed: not through
    the logger, which writes to standard error, in the sandbox as console text, and may be
    filtered by level. The line carries `"event": "audit.checkpoint"`, the key structlog's
    JSON lines use for their message, so one shipper rule picks it out of either stream."""

    name = "stdout"

    async def _send(self, line: str) -> None:
        marked = json.dumps({"event": CHECKPOINT_EVENT, **json.loads(line)}, sort_keys=True)
        try:
            sys.stdout.write(marked + "\n")
            sys.stdout.flush()
        except (OSError, ValueError) as error:  # a closed pipe, a closed stream
            raise SinkUnavailableError(self.name, type(error).__name__) from None


def sink_from_value(value: str | None, data_dir: Path) -> CheckpointSink:
    problem = sink_problem(value)
    if problem is not None:
        raise ValueError(f"BG_AUDIT_CHECKPOINT_SINK: {problem}")
    given = (value or "").strip()
    if not given:
        return DirectorySink(data_dir / "audit")
    if given == "stdout":
        return StdoutSink()
    if urlsplit(given).scheme in ("http", "https"):
        return HttpSink(given)
    return DirectorySink(Path(given))


def configured_sink() -> CheckpointSink:
    from settings import get_settings

    settings = get_settings()
    return sink_from_value(settings.audit_checkpoint_sink, settings.data_dir)


async def pending_checkpoints(sink: CheckpointSink) -> int:
    """How many stored checkpoints the sink has not taken yet (a gauge for the metrics)."""
    return len(await sink.missing())


def _seqs_in(path: Path) -> set[int]:
    seqs: set[int] = set()
    if path.exists():
        with path.open() as file:
            for line in file:
                if line.endswith("\n"):  # a line a crash cut short is not there
                    seqs.add(int(json.loads(line)["seq"]))
    return seqs


def _append_lines(path: Path, lines: list[str]) -> int:
    """Append the lines whose seq the file still lacks, holding the file's lock: two writers at
    once (the minute job, the command) add each line once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as file:
        fcntl.flock(file, fcntl.LOCK_EX)  # released when the file closes
        file.seek(0)
        kept = file.read()
        if kept and not kept.endswith("\n"):  # drop a line a crash cut short
            kept = kept[: kept.rfind("\n") + 1]
            file.truncate(len(kept.encode()))
        known = {int(json.loads(line)["seq"]) for line in kept.splitlines() if line.strip()}
        added = [line for line in lines if json.loads(line)["seq"] not in known]
        file.write("".join(line + "\n" for line in added))
        file.flush()
        os.fsync(file.fileno())
    return len(added)
