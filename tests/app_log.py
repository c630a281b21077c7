"""Capture what the in-process app logs, rendered by the gateway's own formatter (redaction
included), whatever other handlers pytest or earlier tests have put on the root logger."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog


@contextmanager
def captured_app_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    formatter = next(
        handler.formatter
        for handler in root.handlers
        if isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter)
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
