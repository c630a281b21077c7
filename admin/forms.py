"""The back office's actions, as piccolo-admin forms. Each one calls a gateway service with the
signed-in staff member; the services check role, assignee and maker-checker themselves."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from piccolo_admin.endpoints import FormConfig
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request

from admin.free_text import FormModel, refuse_card_or_iban
from admin.guard import current_staff
from audit.reading import read_audit_entry
from gateway.api_keys.scopes import Scope
from gateway.api_keys.service import issue_key, revoke_key
from gateway.change_requests.states import Kind, Transition
from gateway.change_requests.workflow import WorkflowService
from gateway.errors import HTTP_STATUS, BillingError
from gateway.staff import service as staff_accounts
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import Settings

Model = TypeVar("Model", bound=BaseModel)
REQUEST_HELP = "Request: its id, or its ticket as shown in the list (for example: zendesk #1001)."
SCOPES = ", ".join(Scope)
ROLES = "Role: specialist, team_lead, admin or operations (enters and deposits mailed cheques)."


def staff_action(
    role: Role, work: Callable[[StaffMember, Model], Awaitable[str]]
) -> Callable[[Request, Model], Coroutine[Any, Any, str]]:
    """Run `work` as the signed-in staff member of `role`; a refusal is shown on the form.
    The guard already checked the role; checking again here costs nothing."""

    async def endpoint(_request: Request, data: Model) -> str:
        staff = current_staff.get()
        if staff is None or staff.role is not role:
            raise HTTPException(status_code=403, detail="Sign in with the right role.")
        refuse_card_or_iban(data)
        try:
            return await work(staff, data)
        except BillingError as error:
            status = HTTP_STATUS[error.code]
            if status in (401, 403):
                raise HTTPException(status_code=status, detail=error.detail) from None
            raise ValueError(error.detail) from None

    return endpoint


EnumType = TypeVar("EnumType", bound=enum.Enum)


def _parse(kind: type[EnumType], value: str) -> EnumType:
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"Choose one of: {', '.join(str(item.value) for item in kind)}.") from None


class ClaimNext(FormModel):
    kind: str = "any"


class UpdateStatus(FormModel):
    request: str = Field(description=REQUEST_HELP, min_length=1, max_length=200)
    step: str = Field(min_length=1, max_length=40)


class Assign(FormModel):
    request: str = Field(description=REQUEST_HELP, min_length=1, max_length=200)
    specialist: str = Field(description="The specialist's username.", min_length=1)


class Approve(FormModel):
    request: str = Field(description=REQUEST_HELP, min_length=1, max_length=200)


class Reject(FormModel):
    request: str = Field(description=REQUEST_HELP, min_length=1, max_length=200)
    comment: str = Field(
        description="What to fix; the specialist sees it.", min_length=3, max_length=2000
    )


class StaffRole(FormModel):
    username: str = Field(min_length=1, max_length=100)
    role: str = Field(min_length=1, max_length=20)


class NewStaff(FormModel):
    username: str = Field(min_length=1, max_length=100)
    email: str = Field(min_length=3, max_length=255)
    role: str = Field(min_length=1, max_length=20)
    first_name: str = Field(
        default="",
        max_length=100,
        description="Optional; with the last name, the initials an operations member's "
        "cheques carry (else the username's first two letters).",
    )
    last_name: str = Field(default="", max_length=100)


class Username(FormModel):
    username: str = Field(min_length=1, max_length=100)


class NewApiKey(FormModel):
    name: str = Field(min_length=1, max_length=100, description="The support tool it is for.")
    client: str | None = Field(
        default=None,
        max_length=100,
        description="The organisation it belongs to (default: a client of its own). Its keys "
        "share its requests: give the old key's client when rotating.",
    )
    scopes: str = Field(
        # all-clients is given only on purpose: a key normally sees its own client's requests
        default=",".join(s for s in Scope if s is not Scope.CHANGE_REQUESTS_ALL_CLIENTS),
        description="Comma-separated: " + ", ".join(Scope),
    )
    expires_in_days: int | None = Field(default=365, ge=1, le=3650)


class RevokeApiKey(FormModel):
    prefix: str = Field(min_length=1, max_length=16, description="As shown in the key list.")
    reason: str = Field(min_length=3, max_length=500)


class AuditEntryRef(FormModel):
    seq: int = Field(description="The entry's number in the audit trail (its seq).")
    why: str = Field(description="Why you need to read it: kept with the reading.")


class Resolution(FormModel):
    request: str = Field(min_length=1, max_length=200)
    resolution_note: str = Field(min_length=3, max_length=2000)
    contact_reasons: str = Field(min_length=1, max_length=400)


def _reason_list(settings: Settings) -> str:
    codes = settings.all_contact_reasons
    return "; ".join(f"{number} = {code}" for number, code in enumerate(codes, start=1))


def _reasons_from(settings: Settings, text: str) -> list[str]:
    """Contact reasons typed as their numbers ("1, 3") or their codes. piccolo-admin's custom
    forms have no select box, so the form's description lists the numbered codes."""
    codes = settings.all_contact_reasons
    by_text = {code.lower(): code for code in codes}
    chosen = []
    for part in text.split(","):
        part = part.strip()
        if part.isdigit() and 1 <= int(part) <= len(codes):
            chosen.append(codes[int(part) - 1])
        elif part.lower() in by_text:
            chosen.append(by_text[part.lower()])
        elif part:
            raise ValueError(f"Unknown contact reason {part!r}: use the numbers listed above.")
    return list(dict.fromkeys(chosen))


def _amend_form(role: Role, settings: Settings, workflow: WorkflowService) -> FormConfig:
    async def amend(staff: StaffMember, data: Resolution) -> str:
        reasons = _reasons_from(settings, data.contact_reasons)
        item = await workflow.amend(staff, data.request, data.resolution_note, reasons)
        return f"{item.ticket} is amended and goes back to review."

    return FormConfig(
        name="Amend resolution",
        pydantic_model=Resolution,
        endpoint=staff_action(role, amend),
        description="Correct a processed request. An approval it had is voided, and whoever "
        f"amends it cannot approve it. {REQUEST_HELP} Contact reasons: {_reason_list(settings)}.",
    )


def specialist_forms(settings: Settings, workflow: WorkflowService) -> list[FormConfig]:
    async def claim(staff: StaffMember, data: ClaimNext) -> str:
        kind = None if data.kind == "any" else _parse(Kind, data.kind)
        item = await workflow.claim_next(staff, kind)
        return f"{item.ticket} ({item.kind.value.replace('_', ' ')}) is yours and in progress."

    async def update(staff: StaffMember, data: UpdateStatus) -> str:
        item = await workflow.step(staff, data.request, _parse(Transition, data.step))
        return f"{item.ticket} is now {item.status.value.replace('_', ' ')}."

    return [
        FormConfig(
            name="Claim next request",
            pydantic_model=ClaimNext,
            endpoint=staff_action(Role.SPECIALIST, claim),
            description="Take the oldest unassigned request and start it. Kind: any, "
            "iban_change or plan_change.",
        ),
        FormConfig(
            name="Update status",
            pydantic_model=UpdateStatus,
            endpoint=staff_action(Role.SPECIALIST, update),
            description=f"{REQUEST_HELP} Step: start, wait_for_customer, resume, or rework "
            "(a request a team lead sent back).",
        ),
        _amend_form(Role.SPECIALIST, settings, workflow),
    ]


def lead_forms(settings: Settings, workflow: WorkflowService) -> list[FormConfig]:
    async def assign(staff: StaffMember, data: Assign) -> str:
        item = await workflow.assign(staff, data.request, data.specialist)
        return f"{item.ticket} is assigned to {data.specialist}."

    async def approve(staff: StaffMember, data: Approve) -> str:
        item = await workflow.approve(staff, data.request)
        return f"{item.ticket} is approved."

    async def reject(staff: StaffMember, data: Reject) -> str:
        item = await workflow.reject(staff, data.request, data.comment)
        return f"{item.ticket} is back with its specialist, with your comment."

    return [
        FormConfig(
            name="Assign request",
            pydantic_model=Assign,
            endpoint=staff_action(Role.TEAM_LEAD, assign),
            description=f"Assign or reassign an open request to a specialist. {REQUEST_HELP}",
        ),
        FormConfig(
            name="Approve request",
            pydantic_model=Approve,
            endpoint=staff_action(Role.TEAM_LEAD, approve),
            description="Approve processed work from the review queue. You cannot approve work "
            f"you processed yourself. {REQUEST_HELP}",
        ),
        FormConfig(
            name="Reject request",
            pydantic_model=Reject,
            endpoint=staff_action(Role.TEAM_LEAD, reject),
            description="Send processed work back to its specialist with a comment. "
            f"{REQUEST_HELP}",
        ),
        _amend_form(Role.TEAM_LEAD, settings, workflow),
    ]


def admin_forms() -> list[FormConfig]:
    async def create(staff: StaffMember, data: NewStaff) -> str:
        role = _parse(Role, data.role)
        account = await staff_accounts.create_staff(
            data.username,
            data.email,
            role,
            staff.actor,
            first_name=data.first_name,
            last_name=data.last_name,
        )
        return (
            f"Created {account.username} ({account.role.value}). Temporary password, shown once: "
            f"{account.password} — they set up their authenticator at first sign-in."
        )

    async def set_role(staff: StaffMember, data: StaffRole) -> str:
        await staff_accounts.set_role(data.username, _parse(Role, data.role), staff.actor)
        return f"{data.username} is now {data.role}; their sessions were ended."

    async def deactivate(staff: StaffMember, data: Username) -> str:
        done = await staff_accounts.deactivate(data.username, staff.actor)
        return done.sentence(data.username)

    async def unlock(staff: StaffMember, data: Username) -> str:
        await staff_accounts.unlock(data.username, staff.actor)
        return f"{data.username} is unlocked."

    async def reset_password(staff: StaffMember, data: Username) -> str:
        password = await staff_accounts.reset_password(data.username, staff.actor)
        return f"New temporary password for {data.username}, shown once: {password}"

    async def reset_mfa(staff: StaffMember, data: Username) -> str:
        await staff_accounts.reset_mfa(data.username, staff.actor)
        return f"{data.username} sets up a new authenticator at their next sign-in."

    async def new_key(staff: StaffMember, data: NewApiKey) -> str:
        try:
            scopes = [Scope(part.strip()) for part in data.scopes.split(",") if part.strip()]
        except ValueError:
            raise ValueError(f"Unknown scope; the scopes are: {SCOPES}.") from None
        expires = timedelta(days=data.expires_in_days) if data.expires_in_days else None
        issued = await issue_key(
            data.name, scopes, expires_in=expires, client=data.client or None, actor=staff.actor
        )
        return (
            f"API key for {issued.name} (client {issued.client}), shown once — copy it now: "
            f"{issued.secret}"
        )

    async def revoke(staff: StaffMember, data: RevokeApiKey) -> str:
        await revoke_key(data.prefix, actor=staff.actor, reason=data.reason)
        return f"Key {data.prefix} is revoked."

    forms: list[tuple[str, type[BaseModel], Callable[[StaffMember, Any], Awaitable[str]], str]] = [
        ("Create staff account", NewStaff, create, f"A temporary password is shown once. {ROLES}"),
        ("Change role", StaffRole, set_role, f"Ends the account's sessions. {ROLES}"),
        ("Deactivate staff account", Username, deactivate, "Ends every session at once."),
        ("Unlock staff account", Username, unlock, "After a lockout."),
        ("Reset password", Username, reset_password, "Shown once; ends the account's sessions."),
        ("Reset MFA", Username, reset_mfa, "For a lost phone: enrol again at next sign-in."),
        ("Create API key", NewApiKey, new_key, f"The key is shown once. Scopes: {SCOPES}."),
        ("Revoke API key", RevokeApiKey, revoke, "Takes effect at once."),
    ]
    return [
        FormConfig(
            name=name,
            pydantic_model=model,
            endpoint=staff_action(Role.ADMIN, work),
            description=text,
        )
        for name, model, work, text in forms
    ]


def audit_reading_form(role: Role) -> FormConfig:
    """Read one entry's payload. The reading is itself an audit entry (who, which, why)."""

    async def read(staff: StaffMember, data: AuditEntryRef) -> str:
        return await read_audit_entry(data.seq, data.why, staff.actor)

    return FormConfig(
        name="Decrypt audit entry",
        pydantic_model=AuditEntryRef,
        endpoint=staff_action(role, read),
        description="Shows one entry's reason and before/after; your reading is recorded.",
    )
