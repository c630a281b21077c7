import enum

from gateway.core.errors import BillingError, ErrorCode
from gateway.i18n import N_, Message, current_language
from gateway.i18n.labels import LABELS, label


def _inside(name: str) -> str:
    return name[:1].lower() + name[1:]


class Named(Message):
    """Codes inside a sentence: in English their words as given (the API's text is unchanged);
    in another language their labels (gateway/i18n/labels.py), joined by commas."""

    members: tuple[enum.Enum, ...]

    def __new__(cls, english: str, *members: enum.Enum) -> "Named":
        text = str.__new__(cls, english)
        text.template = english.replace("{", "{{").replace("}", "}}")
        text.values = {}
        text.members = members
        return text

    def localized(self) -> str:
        if current_language.get() == "en":
            return str(self)
        # Inside a sentence: "n'est pas en cours", not "n'est pas En cours".
        return ", ".join(_inside(label(member)) for member in self.members)

    def __reduce__(self) -> tuple[object, ...]:  # a copy keeps the English words
        return (str, (str(self),))


class Kind(enum.StrEnum):
    IBAN_CHANGE = "iban_change"
    PLAN_CHANGE = "plan_change"


LABELS.update(
    {
        Kind.IBAN_CHANGE: N_("Bank details (IBAN) change"),
        Kind.PLAN_CHANGE: N_("Plan change (upsell)"),
    }
)


class Status(enum.StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    AWAITING_APPROVAL = "awaiting_approval"  # a plan waits for a team lead (policy "before")
    APPLYING = "applying"  # steps are running at the providers
    APPLIED = "applied"  # every step reached its provider (or a lead settled it by hand)
    APPLY_FAILED = "apply_failed"  # a step failed for good; a team lead retries or settles it
    PROCESSED = "processed"  # old rows only (done by hand before Apply); nothing leads here now
    APPROVED = "approved"  # applied and reviewed by a team lead
    REJECTED = "rejected"
    CANCELLED = "cancelled"


LABELS.update(
    {
        Status.NEW: N_("New"),
        Status.ASSIGNED: N_("Assigned"),
        Status.IN_PROGRESS: N_("In progress"),
        Status.WAITING_CUSTOMER: N_("Waiting on the customer"),
        Status.AWAITING_APPROVAL: N_("Plan awaiting approval"),
        Status.APPLYING: N_("Applying at the providers"),
        Status.APPLIED: N_("Applied"),
        Status.APPLY_FAILED: N_("Apply failed"),
        Status.PROCESSED: N_("Processed by hand"),
        Status.APPROVED: N_("Approved"),
        Status.REJECTED: N_("Sent back"),
        Status.CANCELLED: N_("Cancelled"),
    }
)


# Before anything was sent to a provider: the specialist's own work.
_BEFORE_APPLY = frozenset(
    {Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_CUSTOMER, Status.REJECTED}
)

# Work not yet done: a second request of the same kind for the same ticket is refused.
# Keep in step with the partial unique index in the migrations.
OPEN_STATUSES = _BEFORE_APPLY | {Status.AWAITING_APPROVAL, Status.APPLYING, Status.APPLY_FAILED}


class Transition(enum.StrEnum):
    ASSIGN = "assign"  # a lead assigns or reassigns; a specialist claims
    START = "start"
    WAIT_FOR_CUSTOMER = "wait_for_customer"
    RESUME = "resume"
    APPLY = "apply"  # the steps start at the providers
    REQUEST_APPROVAL = "request_approval"  # the plan waits for a team lead first
    APPROVE_PLAN = "approve_plan"  # a team lead (never the maker) lets the plan run
    REFUSE_PLAN = "refuse_plan"  # ... or sends it back, with a comment
    APPLY_SUCCEEDED = "apply_succeeded"
    APPLY_FAILED = "apply_failed"
    RETRY_APPLY = "retry_apply"  # a team lead runs the failed step again
    SETTLE_BY_HAND = "settle_by_hand"  # a team lead did the failed step in the console
    APPROVE = "approve"  # review of applied work
    REJECT = "reject"  # the reviewer sends it back, with a comment
    REWORK = "rework"  # the specialist takes a rejected request up again
    CANCEL = "cancel"  # the customer withdrew (only before anything reached a provider)
    AMEND = "amend"  # the resolution is edited after applying; an approval is voided


LABELS.update(
    {
        Transition.ASSIGN: N_("Assign"),
        Transition.START: N_("Start work"),
        Transition.WAIT_FOR_CUSTOMER: N_("Wait for the customer"),
        Transition.RESUME: N_("Resume work"),
        Transition.APPLY: N_("Apply at the providers"),
        Transition.REQUEST_APPROVAL: N_("Ask a team lead to approve the plan"),
        Transition.APPROVE_PLAN: N_("Approve the plan"),
        Transition.REFUSE_PLAN: N_("Refuse the plan"),
        Transition.APPLY_SUCCEEDED: N_("Applied"),
        Transition.APPLY_FAILED: N_("Apply failed"),
        Transition.RETRY_APPLY: N_("Retry the failed step"),
        Transition.SETTLE_BY_HAND: N_("Settled by hand"),
        Transition.APPROVE: N_("Approve"),
        Transition.REJECT: N_("Send back"),
        Transition.REWORK: N_("Take up again"),
        Transition.CANCEL: N_("Cancel"),
        Transition.AMEND: N_("Amend the resolution"),
    }
)


_ENTERS_APPLY = frozenset({Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS})
# Old rows marked processed by hand are still reviewed.
_REVIEWABLE = frozenset({Status.APPLIED, Status.PROCESSED})

# transition -> (the statuses it may start from, the status it leads to)
TRANSITIONS: dict[Transition, tuple[frozenset[Status], Status]] = {
    Transition.ASSIGN: (_BEFORE_APPLY, Status.ASSIGNED),
    Transition.START: (frozenset({Status.ASSIGNED}), Status.IN_PROGRESS),
    Transition.WAIT_FOR_CUSTOMER: (frozenset({Status.IN_PROGRESS}), Status.WAITING_CUSTOMER),
    Transition.RESUME: (frozenset({Status.WAITING_CUSTOMER}), Status.IN_PROGRESS),
    Transition.APPLY: (_ENTERS_APPLY, Status.APPLYING),
    Transition.REQUEST_APPROVAL: (_ENTERS_APPLY, Status.AWAITING_APPROVAL),
    Transition.APPROVE_PLAN: (frozenset({Status.AWAITING_APPROVAL}), Status.APPLYING),
    Transition.REFUSE_PLAN: (frozenset({Status.AWAITING_APPROVAL}), Status.REJECTED),
    Transition.APPLY_SUCCEEDED: (frozenset({Status.APPLYING}), Status.APPLIED),
    Transition.APPLY_FAILED: (frozenset({Status.APPLYING}), Status.APPLY_FAILED),
    Transition.RETRY_APPLY: (frozenset({Status.APPLY_FAILED}), Status.APPLYING),
    Transition.SETTLE_BY_HAND: (frozenset({Status.APPLY_FAILED}), Status.APPLYING),
    Transition.APPROVE: (_REVIEWABLE, Status.APPROVED),
    Transition.REJECT: (_REVIEWABLE, Status.REJECTED),
    Transition.REWORK: (frozenset({Status.REJECTED}), Status.IN_PROGRESS),
    # A rejected request whose change reached a provider is refused by the service, which
    # knows about its runs.
    Transition.CANCEL: (_BEFORE_APPLY | {Status.AWAITING_APPROVAL}, Status.CANCELLED),
    Transition.AMEND: (frozenset({Status.APPLIED, Status.APPROVED}), Status.APPLIED),
}


def next_status(current: Status, transition: Transition) -> Status:
    """The status after `transition`; an illegal one is refused, naming where it is allowed."""
    sources, target = TRANSITIONS[transition]
    if current not in sources:
        raise BillingError(
            ErrorCode.INVALID_TRANSITION,
            Message(
                "A request that is {status} cannot {transition}; that is possible only from: "
                "{sources}.",
                status=Named(current.value.replace("_", " "), current),
                transition=Named(transition.value.replace("_", " "), transition),
                sources=Named(", ".join(sorted(sources)), *sorted(sources)),
            ),
            extra={"current_status": current.value},
        )
    return target
