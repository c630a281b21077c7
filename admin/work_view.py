"""What the work page shows and offers, worked out in Python so that the template only lays it
out: which actions the signed-in staff member has on this request now, the pre-checks read back
from the request, the runs of its Apply, and the sentences for each outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from admin.triage_reasons import translated_why
from admin.work_request import TARGET_NAMES, WorkRequest
from gateway.change_requests.states import Status
from gateway.fulfilment.sentences import said_again
from gateway.fulfilment_schemas import Checks, FulfilmentRead, RunRead, StepRead
from gateway.i18n import N_, Message, gettext, translate
from gateway.i18n.formatting import format_minor
from gateway.i18n.labels import label
from gateway.provider_links import request_links
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import Settings

# The statuses Apply starts from (gateway.change_requests.states: APPLY, REQUEST_APPROVAL).
APPLICABLE = frozenset({"new", "assigned", "in_progress"})
REVIEWABLE = frozenset({"applied", "processed"})
# Before anything was sent to a provider (gateway.change_requests.states._BEFORE_APPLY): a team
# lead may close the request or give it to a specialist.
BEFORE_APPLY = frozenset({"new", "assigned", "in_progress", "waiting_customer", "rejected"})
CLOSE_REASON = N_("Customer did not answer")
OPEN = BEFORE_APPLY | {"awaiting_approval", "applying", "apply_failed"}

# What a successful action says, by the key the redirect carries (never text from the URL).
DONE = {
    "applying": N_("Applying: the steps run at the providers now; this page follows them."),
    "awaiting_approval": N_("The plan waits for a team lead's approval; it runs once approved."),
    "checks": N_("The pre-checks were read again from the providers."),
    "contract": N_("Recorded: the new contract came back signed."),
    "approved": N_("Approved."),
    "rejected": N_("Sent back to its specialist with your comment."),
    "plan_approved": N_("Plan approved: it runs at the providers now."),
    "plan_refused": N_("Plan refused: the request is back with its specialist, with your comment."),
    "retried": N_("The failed step runs again."),
    "reworked": N_("The request is yours again: check it and apply it."),
    "settled": N_("The step is marked as settled by hand; the run goes on."),
    "closed": N_("Closed: the request is cancelled and its ticket is told why."),
    "reposted": N_("Re-posted: back in progress with its specialist, who asks the customer again."),
    "assigned": N_("Assigned: the request is in the specialist's queue."),
}

OPERATION_NAMES = {
    "create_sepa_method": N_("Create the new SEPA method"),
    "set_default_method": N_("Make it the default"),
    "close_method": N_("Close the old method"),
    "add_payout_account": N_("Add the new payout account"),
    "default_payout_account": N_("Make it the default for payouts"),
    "remove_payout_account": N_("Remove the old payout account"),
    "change_quantity": N_("Change the seat quantity"),
}
STEP_STATUS_NAMES = {
    "pending": N_("waiting"),
    "calling": N_("calling the provider"),
    "succeeded": N_("done"),
    "failed": N_("failed"),
    "settled_by_hand": N_("settled by hand"),
}
# A run's own statuses (gateway/fulfilment: runs), named like the request's.
RUN_STATUS_NAMES = {
    "running": N_("running"),
    "succeeded": N_("succeeded"),
    "failed": N_("failed"),
    "waiting_approval": N_("waiting for approval"),
    "refused": N_("refused"),
    "cancelled": N_("cancelled"),
}
FACT_NAMES = {
    "name": N_("Name"),
    "email": N_("Email"),
    "postal_address": N_("Postal address"),
    "id_document": N_("ID document"),
    "proof_of_address": N_("Proof of address"),
}
FACT_STATES = {
    "matched": N_("matched"),
    "different": N_("different"),
    "not_checked": N_("not checked"),
    "recorded": N_("recorded by the agent"),
}
SEVERITY_NAMES = {
    "ok": N_("ok"),
    "info": N_("info"),
    "warning": N_("warning"),
    "blocking": N_("blocking"),
}
METHOD_KINDS = {
    "sepa_debit": N_("SEPA direct debit"),
    "bank_transfer": N_("bank transfer"),
    "bank_account": N_("bank account"),
    "card": N_("card"),
    "other": N_("other"),
}
PRORATIONS = {
    "create_prorations": N_("prorated on the next invoice"),
    "always_invoice": N_("prorated and invoiced now"),
    "none": N_("no proration"),
}
PAYOUT_STATUSES = {
    "pending": N_("pending"),
    "in_transit": N_("in transit"),
    "paid": N_("paid"),
    "failed": N_("failed"),
    "canceled": N_("cancelled"),
}
CHECK_MOMENTS = {
    "intake": N_("when the request was filed"),
    "claim": N_("when the request was taken"),
    "manual": N_("refreshed by hand"),
    "apply": N_("at Apply"),
}
PROVIDER_ID_NAMES = {
    "payment_method": N_("payment method"),
    "method": N_("method"),
    "old_method": N_("old method"),
    "new_method": N_("new method"),
    "bank_account": N_("bank account"),
    "external_account": N_("bank account"),
    "account": N_("account"),
    "customer": N_("customer"),
    "subscription": N_("subscription"),
    "charge": N_("charge"),
    "created": N_("created"),
    "default": N_("default"),
    "previous_default": N_("previous default"),
    "closed": N_("closed"),
    "removed": N_("removed"),
    "mandate": N_("mandate"),
}
CONTRACT_WAYS = (N_("e-signature"), N_("signed PDF by email"), N_("paper, by post"))


def money(minor: int | None, currency: str) -> str:
    """An amount in minor units, as the reader writes amounts ("" for none)."""
    return format_minor(minor, currency)


def shown(sentence: str | None) -> str:
    """A sentence made by a service or the checks, in the reader's language: a Message in
    memory says itself again; one read back from the database as English is recognised by its
    template (gateway/fulfilment/sentences.py)."""
    if not sentence:
        return ""
    if isinstance(sentence, Message):
        return translate(sentence)
    return said_again(sentence)


_NAMES = {
    "severity": SEVERITY_NAMES,
    "method": METHOD_KINDS,
    "proration": PRORATIONS,
    "payout": PAYOUT_STATUSES,
    "moment": CHECK_MOMENTS,
    "fact": FACT_NAMES,
    "fact_state": FACT_STATES,
    "target": TARGET_NAMES,
    "provider_id": PROVIDER_ID_NAMES,
}


def _named(table: str, code: str | None) -> str:
    """A code the template shows, by its name in the reader's language (its words if none)."""
    if not code:
        return ""
    words = _NAMES[table].get(code)
    return gettext(words) if words else code.replace("_", " ")


def status_name(status: str) -> str:
    """A request's or a run's status by its label, never its code."""
    try:
        return label(Status(status))
    except ValueError:
        return gettext(RUN_STATUS_NAMES.get(status, status))


def read_checks(stored: str | None) -> Checks | None:
    """The pre-checks as stored on the request; an unreadable old shape shows as not checked."""
    if not stored:
        return None
    try:
        return msgspec.json.decode(stored, type=Checks)
    except msgspec.ValidationError:
        return None


def state_lines(state: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A step's masked before/after as label and value lines."""
    if not state:
        return []
    return [(gettext(str(key).replace("_", " ")), _flat(value)) for key, value in state.items()]


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key.replace('_', ' ')}: {_flat(item)}" for key, item in value.items())
    if isinstance(value, list):
        return "; ".join(_flat(item) for item in value) or gettext("none")
    if value is None:
        return gettext("none")
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return str(value)


@dataclass(frozen=True)
class Actions:
    """What the signed-in staff member may do on this request now. The services check it all
    again; this only decides which buttons are shown."""

    apply: bool = False
    rework: bool = False
    refresh: bool = False
    record_contract: bool = False
    approve_plan: bool = False
    review: bool = False
    step_actions: bool = False  # retry or settle a failed step
    is_maker: bool = False
    close: bool = False  # a lead cancels it, with a reason
    repost: bool = False  # a lead puts a request waiting on the customer back in work
    assign: bool = False  # a lead gives it to a specialist


def actions_for(
    staff: StaffMember, request: WorkRequest, checks: Checks | None, runs: list[RunRead]
) -> Actions:
    lead = staff.role is Role.TEAM_LEAD
    own = staff.role is Role.SPECIALIST and request.assignee_id == staff.id
    last = runs[-1] if runs else None
    maker = request.maker_id == staff.id or (
        last is not None and last.started_by.get("id") == staff.username
    )
    contract_needed = checks is not None and any(
        finding.code == "needs_new_contract" for finding in checks.findings
    )
    before_apply = request.status in APPLICABLE or request.status == "rejected"
    reached_provider = any(step.status != "pending" for run in runs for step in run.steps)
    return Actions(
        apply=own and request.status in APPLICABLE,
        rework=own and request.status == "rejected",
        refresh=(own or lead) and before_apply,
        record_contract=(own or lead)
        and contract_needed
        and checks is not None
        and checks.contract_return is None
        and before_apply,
        approve_plan=lead and request.status == "awaiting_approval",
        review=lead and request.status in REVIEWABLE,
        step_actions=lead and request.status == "apply_failed",
        is_maker=maker,
        close=lead and request.status in BEFORE_APPLY and not reached_provider,
        repost=lead and request.status == "waiting_customer",
        assign=lead and request.status in BEFORE_APPLY,
    )


@dataclass(frozen=True)
class StepLine:
    step: StepRead
    target_name: str
    operation_name: str
    status_name: str
    before: list[tuple[str, str]]
    after: list[tuple[str, str]]


@dataclass(frozen=True)
class RunView:
    run: RunRead
    started_by: str
    steps: list[StepLine] = field(default_factory=list)


def run_views(fulfilment: FulfilmentRead | None) -> list[RunView]:
    if fulfilment is None:
        return []
    return [
        RunView(
            run=run,
            started_by=str(
                run.started_by.get("id") or run.started_by.get("name") or gettext("unknown")
            ),
            steps=[
                StepLine(
                    step=step,
                    target_name=gettext(TARGET_NAMES.get(step.target, step.target)),
                    operation_name=gettext(OPERATION_NAMES.get(step.operation, step.operation)),
                    status_name=gettext(STEP_STATUS_NAMES.get(step.status, step.status)),
                    before=state_lines(step.before),
                    after=state_lines(step.after),
                )
                for step in run.steps
            ],
        )
        for run in fulfilment.runs
    ]


def acknowledgeable(checks: Checks | None) -> list[tuple[str, str]]:
    """The warnings Apply needs acknowledged, by code, each once."""
    if checks is None:
        return []
    seen: dict[str, str] = {}
    for finding in checks.findings:
        if finding.needs_acknowledgement and finding.code not in seen:
            seen[finding.code] = shown(finding.sentence)
    return list(seen.items())


def identity_differs(checks: Checks | None) -> bool:
    if checks is None:
        return False
    return any(fact.state == "different" for fact in checks.identity) or any(
        finding.code == "identity_mismatch" for finding in checks.findings
    )


def page_context(
    settings: Settings,
    staff: StaffMember,
    request: WorkRequest,
    fulfilment: FulfilmentRead | None,
    *,
    error: str | None = None,
    done: str | None = None,
    specialists: list[str] | None = None,
) -> dict[str, Any]:
    checks = read_checks(request.checks_json)
    runs = run_views(fulfilment)
    actions = actions_for(staff, request, checks, [view.run for view in runs])
    lead = staff.role is Role.TEAM_LEAD
    running = request.status == "applying" or any(
        view.run.status == "running" for view in runs[-1:]
    )
    return {
        "sandbox": settings.sandbox,
        "provider_links": request_links(settings, request.provider_refs, checks),
        "staff": staff,
        "lead": lead,
        "back": "/lead/#/all_requests" if lead else "/specialist/#/my_queue",
        "item": request,
        "checks": checks,
        "runs": runs,
        "actions": actions,
        "acknowledge": acknowledgeable(checks),
        "identity_differs": identity_differs(checks),
        "reasons": settings.contact_reasons.get(request.kind, ()),
        "target_names": TARGET_NAMES,
        "fact_names": FACT_NAMES,
        "fact_states": FACT_STATES,
        "contract_ways": CONTRACT_WAYS,
        "money": money,
        "shown": shown,
        "status_name": status_name,
        "role_name": label(staff.role),
        "named": _named,
        "refreshing": running,
        "error": shown(error),
        "notice": gettext(DONE[done]) if done in DONE else None,
        # Why a lead sees it in Triage, while it is open and nobody has acted on it yet.
        "triage_reason": translated_why(request.triage_reason)
        if lead and request.triage_reason and request.status in OPEN
        else None,
        "specialists": specialists or [],
        "close_reason": gettext(CLOSE_REASON),
    }
