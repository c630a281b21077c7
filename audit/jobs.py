"""Each minute: chain what was written since, and sign a checkpoint if the chain grew."""

from __future__ import annotations

from audit.chain import seal_pending
from audit.checkpoints import write_checkpoint
from gateway.db.connection import fetch
from gateway.jobs import job_app
from gateway.log import get_logger
from settings import get_settings

_log = get_logger("audit")


@job_app.periodic(cron="* * * * *")
@job_app.task(name="audit.seal_and_checkpoint", queueing_lock="audit.seal_and_checkpoint")
async def seal_and_checkpoint(timestamp: int) -> int:
    sealed = await seal_pending()
    last = await fetch("SELECT max(seq) AS seq FROM audit_checkpoints")
    head = await fetch("SELECT max(seq) AS seq FROM audit_chain")
    if (head[0]["seq"] or 0) > (last[0]["seq"] or 0):
        settings = get_settings()
        await write_checkpoint(settings.audit_signing_seed, settings.data_dir / "audit")
    _log.info("audit sealed", entries=sealed, scheduled_at=timestamp)
    return sealed
