"""Purge idempotency keys past their retention (at least 72 h, BG_IDEMPOTENCY_TTL_HOURS)."""

from __future__ import annotations

from datetime import timedelta

from gateway.core.jobs import job_app
from gateway.core.log import get_logger
from gateway.idempotency.service import purge_expired
from settings import get_settings

_log = get_logger("gateway.idempotency")


@job_app.periodic(cron="17 * * * *")
@job_app.task(name="idempotency.purge_expired", queueing_lock="idempotency.purge_expired")
async def purge_expired_keys(timestamp: int) -> int:
    removed = await purge_expired(timedelta(hours=get_settings().idempotency_ttl_hours))
    _log.info("idempotency keys purged", removed=removed, scheduled_at=timestamp)
    return removed
