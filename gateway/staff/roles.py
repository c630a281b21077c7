import enum

from gateway.i18n import N_
from gateway.i18n.labels import LABELS


class Role(enum.StrEnum):
    """What a staff account may do; each role has its own back-office mount."""

    SPECIALIST = "specialist"  # works their own queue of IBAN and plan changes
    TEAM_LEAD = "team_lead"  # triages every queue and reviews processed work
    ADMIN = "admin"  # manages staff accounts and API keys
    OPERATIONS = "operations"  # enters the mailed cheques, batches and deposits them


LABELS.update(
    {
        Role.SPECIALIST: N_("Billing specialist"),
        Role.TEAM_LEAD: N_("Team lead"),
        Role.ADMIN: N_("Administrator"),
        Role.OPERATIONS: N_("Operations (mailed cheques)"),
    }
)


# Where each role's back office is served. Sibling prefixes: piccolo-admin breaks when nested.
MOUNT_OF_ROLE: dict[Role, str] = {
    Role.SPECIALIST: "/specialist",
    Role.TEAM_LEAD: "/lead",
    Role.ADMIN: "/admin",
    Role.OPERATIONS: "/operations",
}
