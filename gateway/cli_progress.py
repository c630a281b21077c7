"""Progress bars for the long commands (audit verify, rotate-keys, export): on standard error,
and only when a person watches it in a terminal, so logs and CI never get bar noise.

"A terminal" is standard error being a tty, or rich's `TTY_COMPATIBLE=1` saying so (and not
`TERM=dumb` or `TTY_INTERACTIVE=0`). `FORCE_COLOR`, which some CI systems set for colours,
is not enough on its own. `--no-progress` turns the bar off everywhere."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

NoProgress = Annotated[
    bool,
    typer.Option(
        "--no-progress",
        help="no progress bar (there is none anyway when standard error is not a terminal)",
    ),
]


class Bar:
    """One task's bar; with no bar shown, every call does nothing (and costs nothing)."""

    def __init__(self, progress: Progress | None = None, task: TaskID | None = None) -> None:
        self._progress, self._task = progress, task

    @property
    def shown(self) -> bool:
        """Worth counting the total first: a bar is on screen."""
        return self._progress is not None

    def total(self, total: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=total)

    def advance(self, amount: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, amount)


def _watched_stderr() -> Console | None:
    console = Console(stderr=True)
    terminal = os.environ.get("TTY_COMPATIBLE") == "1" or sys.stderr.isatty()
    return console if terminal and console.is_interactive else None


@contextlib.contextmanager
def progress_bar(
    description: str, *, enabled: bool = True, console: Console | None = None
) -> Iterator[Bar]:
    """A bar for `description` (its total set once counted), or a silent one. `console`: where
    to draw it (tests give `Console(force_terminal=True)`); by default standard error."""
    target = (console if console.is_terminal else None) if console else _watched_stderr()
    if not enabled or target is None:
        yield Bar()
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    # Standard output stays the command's own (an export's lines): only stderr goes above the bar.
    with Progress(*columns, console=target, redirect_stdout=False, transient=False) as progress:
        yield Bar(progress, progress.add_task(description, total=None))
