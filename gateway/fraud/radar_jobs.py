"""Each minute: mirror the blocklists into Stripe Radar (see radar_sync.py), audit what it
changed or could not change, log the counts, and keep the last report for this process.

A run that finds nothing to do and fails nothing writes no audit entry (it changed nothing;
one a minute would bury the entries that matter), but it is logged and becomes the last report.
The audit entry's `after` is the whole report; the log line carries counts and reasons only,
no values, since an email's display is the address itself.
"""

from __future__ import annotations

from typing import Any

import procrastinate

from adapters.ports import Capability, capabilities_of
from adapters.stripe.provider import stripe_from_settings
from audit import Actor, AuditEntry, append
from audit.actions import Action
from gateway.core.jobs import job_app
from gateway.core.log import get_logger
from gateway.fraud.radar_sync import DriftReport, sync_to_radar
from settings import get_settings

ACTOR = Actor(kind="system", id="fraud.radar_sync")
_log = get_logger("fraud")
_last_report: DriftReport | None = None


def last_report() -> DriftReport | None:
    """The report of this process's last run, for an operator's shell or a health page."""
    return _last_report


def _log_fields(report: DriftReport) -> dict[str, Any]:
    return {
        "lists": {
            drift.kind: {
                "in_gateway": drift.in_gateway,
                "in_radar_before": drift.in_radar_before,
                "added": drift.added,
                "removed": drift.removed,
                "failed": [
                    {"action": item.action, "entry_id": item.entry_id, "reason": item.reason}
                    for item in drift.failed
                ],
                "error": drift.error,
            }
            for drift in report.kinds
        },
        "not_mirrored": {item.kind: item.live for item in report.not_mirrored},
    }


async def _record(report: DriftReport, timestamp: int) -> None:
    global _last_report
    _last_report = report
    outcome = "succeeded" if report.complete else "failed"
    # A pass that found nothing to do is the usual minute: debug, not a line a minute.
    log = _log.warning if not report.complete else _log.info if report.changed else _log.debug
    log(f"radar sync {outcome}", scheduled_at=timestamp, **_log_fields(report))
    if report.changed or not report.complete:
        await append(
            AuditEntry(
                action=Action.named("blocklist", "radar_sync", outcome),
                actor=ACTOR,
                about={},
                target_id="stripe",
                after=report.as_dict(),
            )
        )


@job_app.periodic(cron="* * * * *")
@job_app.task(
    name="fraud.radar_sync",
    queueing_lock="fraud.radar_sync",  # at most one waiting...
    lock="fraud.radar_sync",  # ...and one running: two passes would add the same items
    # Whole-job failures (the database, the audit write); items and lists that fail are in the
    # report instead, and the next minute's run tries them again.
    retry=procrastinate.RetryStrategy(max_attempts=3, wait=10),
)
async def radar_sync(timestamp: int) -> None:
    adapter = stripe_from_settings(get_settings())
    if adapter is None:
        _log.info("radar sync skipped: Stripe is not configured")
        return
    try:
        if Capability.BLOCKLIST_MIRROR not in capabilities_of(adapter):
            _log.info("radar sync skipped: the Stripe adapter cannot mirror blocklists")
            return
        report = await sync_to_radar(adapter, idempotency_prefix=f"radar-sync:{timestamp}")
    finally:
        await adapter.close()
    await _record(report, timestamp)
