"""Each minute: chain what was written since, and sign a checkpoint if the chain grew, but never
over a chain that does not verify from the last checkpoint: that is refused, loudly. Every run
also copies off the host what the sink has not taken yet (it was down, or a process died)."""

from __future__ import annotations

from audit import queries
from audit.actions import Action
from audit.chain import seal_pending
from audit.checkpoints import ChainBrokenError, copy_off_host, write_checkpoint
from audit.entry import SYSTEM, AuditEntry
from audit.sinks import configured_sink
from audit.store import append
from gateway.core.db.connection import fetch_value, transaction
from gateway.core.jobs import job_app
from gateway.core.log import get_logger
from settings import get_settings

_log = get_logger("audit")


@job_app.periodic(cron="* * * * *")
@job_app.task(name="audit.seal_and_checkpoint", queueing_lock="audit.seal_and_checkpoint")
async def seal_and_checkpoint(timestamp: int) -> int:
    sealed = await seal_pending()
    sink = configured_sink()
    # Behind the head: sign. Ahead of it (a checkpoint the chain does not reach, or one not
    # ours): write_checkpoint refuses, naming it, rather than the job falling silent.
    if await fetch_value(queries.LAST_CHECKPOINT_SEQ) != await fetch_value(queries.CHAIN_LENGTH):
        try:
            await write_checkpoint(get_settings().audit_signing_seed, sink)  # and copies it
        except ChainBrokenError as broken:
            await _refuse(broken)
            await copy_off_host(sink)  # the checkpoints signed before still go out
    else:
        await copy_off_host(sink)  # what a sink that was down did not take
    _log.info("audit sealed", entries=sealed, scheduled_at=timestamp)
    return sealed


async def _refuse(broken: ChainBrokenError) -> None:
    """Every minute it stays broken, in the log at CRITICAL; in the trail itself as well."""
    _log.critical(
        "audit chain does not verify: no checkpoint signed; run `billing-gateway audit verify`",
        from_checkpoint=broken.from_seq,
        first_bad_seq=broken.first_bad_seq,
        problem=broken.problem,
    )
    async with transaction():
        await append(
            AuditEntry(
                action=Action.AUDIT_CHECKPOINT_REFUSED,
                actor=SYSTEM,
                about={},
                target_id="chain",
                reason=broken.problem,
                after={"from_checkpoint": broken.from_seq, "first_bad_seq": broken.first_bad_seq},
            )
        )
