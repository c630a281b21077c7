"""What the log keeps of a failure: enough to find the bug, never megabytes.

A RecursionError's traceback runs to a thousand frames (~194 KB a request): twenty requests wrote
3.9 MB of log. A client's mistake gets one line and no traceback at all; our own bug gets the
last frames of its traceback, cut to a fixed size.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from gateway.core.sensitive import redact_text

MAX_FRAMES = 20
MAX_CHARS = 8_000
_PROJECT = str(Path(__file__).resolve().parents[2])


def short_traceback(error: BaseException) -> str:
    """The innermost frames of each exception in the chain, cut to MAX_CHARS from the end.
    Masked before the cut: a cut through a card number an error message echoed would leave
    digits too few to be recognised, and the log's own redaction would pass them."""
    text = redact_text("".join(traceback.format_exception(error, limit=-MAX_FRAMES)))
    return text if len(text) <= MAX_CHARS else "[...]\n" + text[-MAX_CHARS:]


def where_raised(error: BaseException) -> str:
    """file:line of the innermost frame in the project's own code (not a library's)."""
    where = "?"
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.startswith(_PROJECT) and "site-packages" not in frame.filename:
            where = f"{Path(frame.filename).relative_to(_PROJECT)}:{frame.lineno}"
    return where
