"""What each form of the work page does: one function per action, called by the page's one
dispatcher (admin/work_page.py) with the signed-in staff member and the form. The services
decide who may do what; a refusal comes back as a BillingError whose sentence the page shows.
Each action returns the word the page shows its result under (`?done=`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from admin.page_kit import Wording, free_text
from admin.work_reasons import chosen_reasons, record_reasons
from gateway.change_requests.states import Transition
from gateway.change_requests.workflow import WorkflowService
from gateway.core.errors import BillingError, ErrorCode
from gateway.fulfilment.checks import ChecksService
from gateway.fulfilment.service import Applier, FulfilmentService
from gateway.i18n import N_, Message
from gateway.staff.member import StaffMember
from settings import Settings

Form = dict[str, list[str]]


@dataclass(frozen=True)
class WorkContext:
    staff: StaffMember
    request_id: uuid.UUID
    step_id: uuid.UUID | None  # the step's actions (retry, settle) only
    form: Form
    settings: Settings
    fulfilment: FulfilmentService
    checks: ChecksService


WorkAction = Callable[[WorkContext], Awaitable[str]]

# Free text a staff member types (from a ticket) is stored, audited and shown to the team.
_WORDING = Wording(
    N_(
        "The {label} holds {what}. Leave it out: bank details live only in the change request, "
        "encrypted, and card numbers are never stored."
    ),
    N_("Write a {label} of a few words: it is kept with the request and shown to the team."),
)


def one(form: Form, name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def _text(form: Form, name: str, label: str, *, required: bool = False) -> str:
    """The field's free text, checked as every back-office page checks it (page_kit)."""
    return free_text({name: one(form, name)}, name, label, required=required, wording=_WORDING)


def received_on(text: str) -> date:
    try:
        received = date.fromisoformat(text)
    except ValueError:
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            Message("Give the day the signed contract came back (YYYY-MM-DD)."),
        ) from None
    if received > date.today():
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            Message("The day the contract came back cannot be in the future."),
        )
    return received


async def apply(ctx: WorkContext) -> str:
    reasons = chosen_reasons(ctx.settings, ctx.form.get("reason", []))
    try:
        await ctx.fulfilment.apply(
            ctx.request_id,
            Applier.of_staff(ctx.staff),
            one(ctx.form, "preview_id") or None,
            frozenset(ctx.form.get("acknowledge", [])),
            _text(ctx.form, "identity_mismatch_reason", N_("reason you are sure")) or None,
        )
    except BillingError as refusal:
        # Policy "before": the plan is written down and waits for a team lead.
        if refusal.code is not ErrorCode.APPROVAL_REQUIRED:
            raise
        await record_reasons(ctx.staff, ctx.request_id, reasons)
        return "awaiting_approval"
    await record_reasons(ctx.staff, ctx.request_id, reasons)
    return "applying"


async def rework(ctx: WorkContext) -> str:
    """A request a team lead sent back: the specialist takes it up again, to apply anew."""
    await WorkflowService(ctx.settings).step(ctx.staff, str(ctx.request_id), Transition.REWORK)
    return "reworked"


async def refresh_checks(ctx: WorkContext) -> str:
    await ctx.checks.refresh(ctx.request_id, "manual")
    return "checks"


async def record_contract(ctx: WorkContext) -> str:
    returned = received_on(one(ctx.form, "received_on"))
    await ctx.checks.record_contract_return(
        ctx.staff,
        ctx.request_id,
        _text(ctx.form, "how", N_("way the contract came back")),
        returned,
    )
    return "contract"


async def approve_plan(ctx: WorkContext) -> str:
    await ctx.fulfilment.approve_plan(ctx.staff, ctx.request_id)
    return "plan_approved"


async def refuse_plan(ctx: WorkContext) -> str:
    await ctx.fulfilment.refuse_plan(
        ctx.staff, ctx.request_id, _text(ctx.form, "comment", N_("comment"), required=True)
    )
    return "plan_refused"


async def approve(ctx: WorkContext) -> str:
    await WorkflowService(ctx.settings).approve(ctx.staff, str(ctx.request_id))
    return "approved"


async def reject(ctx: WorkContext) -> str:
    comment = _text(ctx.form, "comment", N_("comment"), required=True)
    await WorkflowService(ctx.settings).reject(ctx.staff, str(ctx.request_id), comment)
    return "rejected"


async def retry_step(ctx: WorkContext) -> str:
    assert ctx.step_id is not None
    await ctx.fulfilment.retry_step(ctx.staff, ctx.step_id)
    return "retried"


async def settle_step(ctx: WorkContext) -> str:
    assert ctx.step_id is not None
    reason = _text(ctx.form, "reason", N_("reason"), required=True)
    created = _text(ctx.form, "provider_id", N_("id")) or None
    await ctx.fulfilment.settle_by_hand(ctx.staff, ctx.step_id, reason, created)
    return "settled"


async def close(ctx: WorkContext) -> str:
    """A team lead closes a request before Apply: cancelled, with the reason (a customer who
    did not answer, by default)."""
    reason = _text(ctx.form, "reason", N_("reason"), required=True)
    await WorkflowService(ctx.settings).close(ctx.staff, str(ctx.request_id), reason)
    return "closed"


async def repost(ctx: WorkContext) -> str:
    """A team lead puts a request waiting on a silent customer back in work with its
    specialist."""
    await WorkflowService(ctx.settings).repost(ctx.staff, str(ctx.request_id))
    return "reposted"


async def assign(ctx: WorkContext) -> str:
    """A team lead gives the request to a specialist (or to another one)."""
    specialist = one(ctx.form, "specialist")
    await WorkflowService(ctx.settings).assign(ctx.staff, str(ctx.request_id), specialist)
    return "assigned"


# The forms' addresses: /staff/requests/{id}/{action} and /staff/requests/{id}/steps/{step}/{action}
REQUEST_ACTIONS: dict[str, WorkAction] = {
    "apply": apply,
    "rework": rework,
    "checks": refresh_checks,
    "contract": record_contract,
    "approve-plan": approve_plan,
    "refuse-plan": refuse_plan,
    "approve": approve,
    "reject": reject,
    "close": close,
    "repost": repost,
    "assign": assign,
}
STEP_ACTIONS: dict[str, WorkAction] = {"retry": retry_step, "settle": settle_step}
