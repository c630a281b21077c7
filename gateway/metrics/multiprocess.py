"""Prometheus across the processes of one `serve` (or one `worker`): every process writes its
samples to files in PROMETHEUS_MULTIPROC_DIR and a scrape adds them up (prometheus_client's
multiprocess mode, chosen when the variable is set before the library is imported)."""

from __future__ import annotations

import atexit
import os
import shutil
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def directory() -> Path | None:
    value = os.environ.get(VARIABLE)
    return Path(value) if value else None


def prepare(data_dir: Path, processes: int) -> Path | None:
    """In the parent, before any worker process starts: choose the directory (under the data
    directory when several processes share a port and none was given) and empty it, as
    prometheus_client requires (files of an earlier run would be added to this one's)."""
    chosen = directory()
    if chosen is None and processes > 1:
        chosen = data_dir / "prometheus"
        os.environ[VARIABLE] = str(chosen)  # worker processes inherit it
    if chosen is None:
        return None
    shutil.rmtree(chosen, ignore_errors=True)
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen


def mark_dead_at_exit() -> None:
    """This process's live gauges leave the sum when it exits normally; `sweep` catches the
    ones that were killed."""
    if directory() is not None:
        atexit.register(multiprocess.mark_process_dead, os.getpid())


def sweep() -> None:
    """Mark dead every process that left live-gauge files and no longer runs (killed, or
    restarted by its supervisor), so that `live*` gauges stop counting it."""
    found = directory()
    if found is None:
        return
    for path in found.glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        if not _running(pid):
            multiprocess.mark_process_dead(pid, str(found))  # type: ignore[no-untyped-call]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def registry() -> CollectorRegistry:
    """What a scrape of this process shows: every process's samples in multiprocess mode, this
    process's alone otherwise."""
    if directory() is None:
        return REGISTRY
    sweep()
    aggregated = CollectorRegistry()
    multiprocess.MultiProcessCollector(aggregated)  # type: ignore[no-untyped-call]
    return aggregated
