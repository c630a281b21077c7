import enum


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
