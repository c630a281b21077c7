"""Staff for the cheque tests: operations members with names (their initials number the
cheques), a team lead, a specialist; and a clean numbering for each test."""

from __future__ import annotations

from gateway.core.db.connection import fetch_value
from gateway.corrections.filing import Requester
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from tests.database import superuser


async def add_staff(
    username: str, role: Role, first: str = "", last: str = "", *, active: bool = True
) -> StaffMember:
    staff_id = await fetch_value(
        "INSERT INTO staff_users (username, password, first_name, last_name, email, active,"
        " admin, superuser, role, failed_logins, totp_last_step, created_at)"
        " VALUES ($1, 'not-a-hash', $2, $3, $4, $5, true, false, $6, 0, 0, now()) RETURNING id",
        username,
        first,
        last,
        f"{username}@example.test",
        active,
        role.value,
    )
    return StaffMember(id=int(staff_id), username=username, role=role)


async def forget_numbering() -> None:
    """The numbering table has no tie to the staff rows the clean slate empties."""
    async with superuser() as connection:
        await connection.execute("DELETE FROM cheque_number_sequences")


def by(staff: StaffMember) -> Requester:
    return Requester.of_staff(staff)
