import enum


class Role(enum.StrEnum):
    """What a staff account may do; each role has its own back-office mount."""

    SPECIALIST = "specialist"  # works their own queue of IBAN and plan changes
    TEAM_LEAD = "team_lead"  # triages every queue and reviews processed work
    ADMIN = "admin"  # manages staff accounts and API keys
    OPERATIONS = "operations"  # enters the mailed cheques, batches and deposits them


# Where each role's back office is served. Sibling prefixes: piccolo-admin breaks when nested.
MOUNT_OF_ROLE: dict[Role, str] = {
    Role.SPECIALIST: "/specialist",
    Role.TEAM_LEAD: "/lead",
    Role.ADMIN: "/admin",
    Role.OPERATIONS: "/operations",
}
