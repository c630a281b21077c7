"""A second person's decision on a correction waiting for approval: approved (bound to the
payload hash the approver was shown, never by whoever filed it) or refused with a reason.
Refused approvals are audited too."""

from __future__ import annotations

import uuid
from typing import Any

from audit.actions import Action
from gateway.core.db.connection import fetch, transaction
from gateway.core.db.rows import as_json
from gateway.core.errors import BillingError, ErrorCode
from gateway.corrections import queries
from gateway.corrections.filing import refuse_sensitive_text
from gateway.corrections.notification_events import record_correction_event
from gateway.corrections.records import audit, load, stored_hash
from gateway.i18n import N_, Message
from gateway.notifications.events import EventType
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role

DECIDERS = frozenset({Role.TEAM_LEAD, Role.ADMIN})


def _require_decider(staff: StaffMember) -> None:
    if staff.role not in DECIDERS:
        raise BillingError(
            ErrorCode.ROLE_NOT_ALLOWED,
            Message("Only a team lead or an admin can approve or refuse."),
        )


async def approve_correction(
    correction_id: uuid.UUID, staff: StaffMember, payload_hash: str, deadline_seconds: int
) -> None:
    """The correction runs as approved: the payload the approver saw (by its hash), by
    someone other than whoever filed it."""
    _require_decider(staff)
    seen = await load(correction_id)
    try:
        _check_approval(seen, staff, payload_hash)
    except BillingError as refused:
        after = {"payload_hash_given": payload_hash, "status": seen["status"]}
        await audit(
            staff.actor, seen, Action.CORRECTION_APPROVE_REFUSED, after, reason=refused.code.value
        )
        raise
    async with transaction():
        row = await load(correction_id, lock=True)
        _check_approval(row, staff, payload_hash)  # again, under the row's lock
        await fetch(
            queries.APPROVE,
            correction_id,
            staff.id,
            as_json({"kind": "staff", "id": staff.username, "role": staff.role.value}),
            payload_hash,
            float(deadline_seconds),
        )
        await audit(
            staff.actor,
            row,
            Action.CORRECTION_APPROVE_SUCCEEDED,
            {"status": "running", "payload_hash": payload_hash},
            before={"status": row["status"]},
        )
        await record_correction_event(EventType.CORRECTION_APPROVED, correction_id)


def _check_approval(row: dict[str, Any], staff: StaffMember, payload_hash: str) -> None:
    if row["status"] != "awaiting_approval":
        raise _not_waiting(row)
    if row["requested_by_staff_id"] == staff.id:
        raise BillingError(
            ErrorCode.MAKER_CANNOT_APPROVE,
            Message("You filed this correction, so another team lead must approve it."),
        )
    if payload_hash != row["payload_hash"] or stored_hash(row) != row["payload_hash"]:
        raise BillingError(
            ErrorCode.PAYLOAD_CHANGED,
            Message(
                "What would run is not what you were shown (the payload changed since): "
                "read the correction again, check its steps and approve that."
            ),
            extra={"payload_hash": row["payload_hash"]},
        )


async def refuse_correction(correction_id: uuid.UUID, staff: StaffMember, reason: str) -> None:
    _require_decider(staff)
    refuse_sensitive_text(reason)
    if not reason.strip():
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            Message("Say why it is refused: whoever filed it reads it."),
        )
    async with transaction():
        row = await load(correction_id, lock=True)
        if row["status"] != "awaiting_approval":
            raise _not_waiting(row)
        await fetch(
            queries.REFUSE,
            correction_id,
            staff.id,
            as_json({"kind": "staff", "id": staff.username, "role": staff.role.value}),
            reason,
        )
        await audit(
            staff.actor,
            row,
            Action.CORRECTION_REFUSE_SUCCEEDED,
            {"status": "refused"},
            before={"status": row["status"]},
            reason=reason,
        )
        await record_correction_event(EventType.CORRECTION_REFUSED, correction_id)


def status_phrase(status: str) -> Message:
    """A correction's status inside a sentence ("awaiting approval"), in the reader's words."""
    return Message(STATUS_PHRASES.get(status, status.replace("_", " ")))


STATUS_PHRASES = {
    "awaiting_approval": N_("awaiting approval"),
    "running": N_("running"),
    "succeeded": N_("succeeded"),
    "failed": N_("failed"),
    "refused": N_("refused"),
}


def _not_waiting(row: dict[str, Any]) -> BillingError:
    return BillingError(
        ErrorCode.INVALID_TRANSITION,
        Message(
            "This correction is {status}, not waiting for approval.",
            status=status_phrase(row["status"]),
        ),
        extra={"current_status": row["status"]},
    )


async def retry_correction(
    correction_id: uuid.UUID, staff: StaffMember, deadline_seconds: int
) -> None:
    """A team lead runs a failed correction again from the step that stopped it, with that
    step's own key: a step whose outcome was unknown (`calling`) is settled by the provider
    (the adapters find a refund or void made under the key), never made twice."""
    _require_decider(staff)
    async with transaction():
        row = await load(correction_id, lock=True)
        if row["status"] != "failed":
            raise BillingError(
                ErrorCode.INVALID_TRANSITION,
                Message(
                    "Only a failed correction can be retried; this one is {status}.",
                    status=status_phrase(row["status"]),
                ),
                extra={"current_status": row["status"]},
            )
        if row["error_code"] == ErrorCode.PAYLOAD_CHANGED.value:
            raise BillingError(
                ErrorCode.PAYLOAD_CHANGED,
                Message(
                    "This correction stopped because its payload changed after approval; file "
                    "it again instead of retrying it."
                ),
            )
        stopped = await queries.reopen_stopped_steps(correction_id)
        await fetch(queries.RUN_AGAIN, correction_id, float(deadline_seconds))
        await audit(
            staff.actor,
            row,
            Action.CORRECTION_RETRY_SUCCEEDED,
            {"status": "running", "steps": sorted(stopped)},
            before={"status": row["status"], "error_code": row["error_code"]},
        )
        await record_correction_event(EventType.CORRECTION_RETRIED, correction_id)


async def settle_step_by_hand(
    correction_id: uuid.UUID, staff: StaffMember, reason: str, provider_reference: str | None
) -> None:
    """A team lead's word that the stopped step was done at the provider by hand (checked in
    its console): the step counts as done, with who, why and what it made, and the correction
    goes on with its next step (or ends). Audited like every decision."""
    _require_decider(staff)
    refuse_sensitive_text(reason, provider_reference)
    if not reason.strip():
        raise BillingError(
            ErrorCode.REASON_REQUIRED,
            Message(
                "Say what was done at the provider and how you checked it: it is kept with the "
                "step."
            ),
        )
    async with transaction():
        row = await load(correction_id, lock=True)
        if row["status"] != "failed":
            raise BillingError(
                ErrorCode.INVALID_TRANSITION,
                Message(
                    "Only a step of a failed correction is settled by hand; this one is {status}.",
                    status=status_phrase(row["status"]),
                ),
                extra={"current_status": row["status"]},
            )
        settled = await queries.settle_first_stopped_step(
            correction_id,
            staff.id,
            reason,
            as_json({"settled_by": staff.username, "provider_reference": provider_reference}),
        )
        if settled is None:
            raise BillingError(
                ErrorCode.INVALID_TRANSITION,
                Message("This correction has no stopped step to settle."),
            )
        await fetch(queries.RUN_AGAIN, correction_id, None)
        await audit(
            staff.actor,
            row,
            Action.CORRECTION_SETTLE_STEP_BY_HAND_SUCCEEDED,
            {"step": settled["position"], "operation": settled["operation"]},
            before={"status": row["status"], "error_code": row["error_code"]},
            reason=reason,
        )
        await record_correction_event(EventType.CORRECTION_STEP_SETTLED_BY_HAND, correction_id)
