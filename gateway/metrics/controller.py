"""`/metrics`: every process's samples (multiprocess mode) and then the business read now."""

from __future__ import annotations

from litestar import get
from litestar.plugins.prometheus import PrometheusController
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.metrics.business import business_metrics
from gateway.metrics.multiprocess import registry


class MetricsController(PrometheusController):
    """Prometheus text at /metrics; kept out of the API's OpenAPI document."""

    include_in_schema = False

    @get()
    async def get(self) -> Response[bytes]:
        body = generate_latest(registry()) + await business_metrics()
        return Response(body, status_code=200, headers={"Content-Type": CONTENT_TYPE_LATEST})
