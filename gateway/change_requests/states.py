import enum

from gateway.errors import BillingError, ErrorCode


class Kind(enum.StrEnum):
    IBAN_CHANGE = "iban_change"
    PLAN_CHANGE = "plan_change"


class Status(enum.StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    PROCESSED = "processed"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


# Work not yet done: a second request of the same kind for the same ticket is refused, and the
# customer may still withdraw it. Keep in step with the partial unique index in the migrations.
OPEN_STATUSES = frozenset(
    {Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_CUSTOMER, Status.REJECTED}
)


class Transition(enum.StrEnum):
    ASSIGN = "assign"  # a lead assigns or reassigns; a specialist claims
    START = "start"
    WAIT_FOR_CUSTOMER = "wait_for_customer"
    RESUME = "resume"
    MARK_PROCESSED = "mark_processed"
    APPROVE = "approve"
    REJECT = "reject"  # the reviewer sends it back, with a comment
    REWORK = "rework"  # the specialist takes a rejected request up again
    CANCEL = "cancel"  # the customer withdrew
    AMEND = "amend"  # the resolution is edited after processing; an approval is voided


# transition -> (the statuses it may start from, the status it leads to)
TRANSITIONS: dict[Transition, tuple[frozenset[Status], Status]] = {
    Transition.ASSIGN: (OPEN_STATUSES, Status.ASSIGNED),
    Transition.START: (frozenset({Status.ASSIGNED}), Status.IN_PROGRESS),
    Transition.WAIT_FOR_CUSTOMER: (frozenset({Status.IN_PROGRESS}), Status.WAITING_CUSTOMER),
    Transition.RESUME: (frozenset({Status.WAITING_CUSTOMER}), Status.IN_PROGRESS),
    Transition.MARK_PROCESSED: (frozenset({Status.IN_PROGRESS}), Status.PROCESSED),
    Transition.APPROVE: (frozenset({Status.PROCESSED}), Status.APPROVED),
    Transition.REJECT: (frozenset({Status.PROCESSED}), Status.REJECTED),
    Transition.REWORK: (frozenset({Status.REJECTED}), Status.IN_PROGRESS),
    Transition.CANCEL: (OPEN_STATUSES, Status.CANCELLED),
    Transition.AMEND: (frozenset({Status.PROCESSED, Status.APPROVED}), Status.PROCESSED),
}


def next_status(current: Status, transition: Transition) -> Status:
    """The status after `transition`; an illegal one is refused, naming where it is allowed."""
    sources, target = TRANSITIONS[transition]
    if current not in sources:
        raise BillingError(
            ErrorCode.INVALID_TRANSITION,
            f"A request that is {current.value} cannot {transition.value.replace('_', ' ')}; "
            f"that is possible only from: {', '.join(sorted(sources))}.",
            extra={"current_status": current.value},
        )
    return target
