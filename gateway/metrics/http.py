"""HTTP request metrics that count a refusal under its own status.

Litestar's Prometheus middleware takes the status from the response it sees go out. A problem
raised by a middleware inside it (the API key's 401, 429 and 503, the body guard's 413 and 400)
is turned into a response outside it, by the exception handlers, so it was counted as a 200.
This one records the status the exception will be answered with; the rest of `__call__` is
Litestar's.
"""

from __future__ import annotations

import time
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException
from litestar.plugins.prometheus import PrometheusMiddleware
from litestar.types import Receive, Scope, Send

from gateway.core.errors import BillingError


def status_of(error: BaseException) -> int:
    if isinstance(error, BillingError):
        return error.status
    if isinstance(error, HTTPException):
        return error.status_code
    return 500


class ProblemAwarePrometheusMiddleware(PrometheusMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request[Any, Any, Any](scope, receive)
        if (
            self._config.excluded_http_methods
            and request.method in self._config.excluded_http_methods
        ):
            await self.app(scope, receive, send)
            return
        labels = {**self._get_default_labels(request), **self._get_extra_labels(request)}
        span: dict[str, float] = {
            "start_time": time.perf_counter(),
            "duration": 0,
            "status_code": 200,
        }
        in_progress = self.requests_in_progress(labels).labels(*labels.values())
        in_progress.inc()
        try:
            await self.app(scope, receive, self._get_wrapped_send(send, span))
        except BaseException as error:
            span["status_code"] = status_of(error)
            span["duration"] = time.perf_counter() - span["start_time"]
            raise
        finally:
            in_progress.dec()
            labels["status_code"] = int(span["status_code"])
            values = [*labels.values()]
            if span["status_code"] >= 500:
                self.requests_error_count(labels).labels(*values).inc()
            self.request_count(labels).labels(*values).inc()
            self.request_time(labels).labels(*values).observe(span["duration"])
