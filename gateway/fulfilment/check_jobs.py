"""The pre-checks' job: refresh a request's checks after it is claimed, outside the claim's
transaction (reading Zuora and Stripe takes seconds; the claim must not wait for them)."""

from __future__ import annotations

import functools
from uuid import UUID

from gateway.core.crypto import Cipher
from gateway.core.jobs import job_app
from gateway.fulfilment.checks import ChecksService
from gateway.providers import providers_from_settings
from settings import get_settings

REFRESH_TASK = "fulfilment.refresh_checks"


@functools.cache
def checks_service() -> ChecksService:
    """One per worker process: its providers keep their HTTP connections between jobs."""
    settings = get_settings()
    return ChecksService(settings, providers_from_settings(settings), Cipher(settings.keys))


@job_app.task(name=REFRESH_TASK, retry=2, queue="fulfilment")
async def refresh_checks(request_id: str, moment: str) -> int:
    """Returns how many blocking findings the request has now."""
    checks = await checks_service().refresh(UUID(request_id), moment)
    return len(checks.blocking())
