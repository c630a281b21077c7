"""Capture what the in-process app logs, rendered by the gateway's own formatter (redaction
included), whatever other handlers pytest or earlier tests have put on the root logger."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from gateway.core.log import configure_logging


def _gateway_formatter() -> logging.Formatter | None:
    return next(
        (
            handler.formatter
            for handler in logging.getLogger().handlers
            if isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter)
        ),
        None,
    )


@contextmanager
def captured_app_log() -> Iterator[io.StringIO]:
    formatter = _gateway_formatter()
    if formatter is None:  # an earlier test put other handlers in place: set the app's up again
        configure_logging(fmt="json")
        formatter = _gateway_formatter()
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
