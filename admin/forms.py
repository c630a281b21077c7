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

from admin.guard import current_staff
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
REQUEST_HELP = "The request id, or its ticket as shown in the list (for example: zendesk #1001)."


def _action(
    role: Role, work: Callable[[StaffMember, Model], Awaitable[str]]
) -> Callable[[Request, Model], Coroutine[Any, Any, str]]:
    """Run `work` as the signed-in staff member of `role`; a refusal is shown on the form.
    The guard already checked the role; checking again here costs nothing."""

    async def endpoint(_request: Request, data: Model) -> str:
        staff = current_staff.get()
        if staff is None or staff.role is not role:
            raise HTTPException(status_code=403, detail="Sign in with the right role.")
        try:
            return await work(staff, data)
        except BillingError as error:
            status = HTTP_STATUS[error.code]
            if status in (401, 403):
                raise HTTPException(status_code=status, detail=error.detail) from None
            raise ValueError(error.detail) from None

    return endpoint


def _reason_choices(settings: Settings) -> type[enum.StrEnum]:
    codes = settings.all_contact_reasons
    return enum.StrEnum(
        "ContactReason", {f"reason_{index}": code for index, code in enumerate(codes)}
    )  # type: ignore[return-value]


class KindChoice(enum.StrEnum):
    ANY = "any"
    IBAN_CHANGE = "iban_change"
    PLAN_CHANGE = "plan_change"


class ClaimNext(BaseModel):
    kind: KindChoice = KindChoice.ANY


class StepChoice(enum.StrEnum):
    START = Transition.START.value
    WAIT_FOR_CUSTOMER = Transition.WAIT_FOR_CUSTOMER.value
    RESUME = Transition.RESUME.value
    REWORK = Transition.REWORK.value


class UpdateStatus(BaseModel):
    request: str = Field(description=REQUEST_HELP, min_length=1, max_length=200)
    step: StepChoice


class Assign(BaseModel):
    request: str = Field(description=REQUEST_HELP, min_length=1, max_length=200)
    specialist: str = Field(description="The specialist's username.", min_length=1)


class Approve(BaseModel):
    request: str = Field(description=REQUEST_HELP, min_length=1, max_length=200)


class Reject(BaseModel):
    request: str = Field(description=REQUEST_HELP, min_length=1, max_length=200)
    comment: str = Field(
        description="What to fix; the specialist sees it.", min_length=3, max_length=2000
    )


class StaffRole(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    role: Role


class NewStaff(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    email: str = Field(min_length=3, max_length=255)
    role: Role


class Username(BaseModel):
    username: str = Field(min_length=1, max_length=100)


class NewApiKey(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="The support tool it is for.")
    scopes: str = Field(
        default=",".join(Scope),
        description="Comma-separated: " + ", ".join(Scope),
    )
    expires_in_days: int | None = Field(default=365, ge=1, le=3650)


class RevokeApiKey(BaseModel):
    prefix: str = Field(min_length=1, max_length=16, description="As shown in the key list.")
    reason: str = Field(min_length=3, max_length=500)


def _resolution_model(settings: Settings) -> type[BaseModel]:
    reason = _reason_choices(settings)

    class Resolution(BaseModel):
        request: str = Field(description=REQUEST_HELP, min_length=1, max_length=200)
        resolution_note: str = Field(
            description="What was done; the customer is told the result.",
            min_length=3,
            max_length=2000,
        )
        contact_reason: reason  # type: ignore[valid-type]
        second_contact_reason: reason | None = None  # type: ignore[valid-type]

    return Resolution


def _amend_form(role: Role, resolution: type[BaseModel], workflow: WorkflowService) -> FormConfig:
    async def amend(staff: StaffMember, data: Any) -> str:
        reasons = [r.value for r in (data.contact_reason, data.second_contact_reason) if r]
        item = await workflow.amend(staff, data.request, data.resolution_note, reasons)
        return f"{item.ticket} is amended and goes back to review."

    return FormConfig(
        name="Amend resolution",
        pydantic_model=resolution,
        endpoint=_action(role, amend),
        description="Correct a processed request. An approval it had is voided, and whoever "
        "amends it cannot approve it.",
    )


def specialist_forms(settings: Settings, workflow: WorkflowService) -> list[FormConfig]:
    resolution = _resolution_model(settings)

    async def claim(staff: StaffMember, data: ClaimNext) -> str:
        kind = None if data.kind is KindChoice.ANY else Kind(data.kind.value)
        item = await workflow.claim_next(staff, kind)
        return f"{item.ticket} ({item.kind.value.replace('_', ' ')}) is yours and in progress."

    async def update(staff: StaffMember, data: UpdateStatus) -> str:
        item = await workflow.step(staff, data.request, Transition(data.step.value))
        return f"{item.ticket} is now {item.status.value.replace('_', ' ')}."

    async def processed(staff: StaffMember, data: Any) -> str:
        reasons = [r.value for r in (data.contact_reason, data.second_contact_reason) if r]
        item = await workflow.mark_processed(staff, data.request, data.resolution_note, reasons)
        return f"{item.ticket} is processed; a team lead reviews it next."

    return [
        FormConfig(
            name="Claim next request",
            pydantic_model=ClaimNext,
            endpoint=_action(Role.SPECIALIST, claim),
            description="Take the oldest unassigned request (optionally of one kind) and start it.",
        ),
        FormConfig(
            name="Update status",
            pydantic_model=UpdateStatus,
            endpoint=_action(Role.SPECIALIST, update),
            description="Start, wait for the customer, resume, or rework a rejected request.",
        ),
        FormConfig(
            name="Mark processed",
            pydantic_model=resolution,
            endpoint=_action(Role.SPECIALIST, processed),
            description="Record what you did and the contact reasons; it goes to review.",
        ),
        _amend_form(Role.SPECIALIST, resolution, workflow),
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
            endpoint=_action(Role.TEAM_LEAD, assign),
            description="Assign or reassign an open request to a specialist.",
        ),
        FormConfig(
            name="Approve request",
            pydantic_model=Approve,
            endpoint=_action(Role.TEAM_LEAD, approve),
            description="Approve processed work. You cannot approve work you processed yourself.",
        ),
        FormConfig(
            name="Reject request",
            pydantic_model=Reject,
            endpoint=_action(Role.TEAM_LEAD, reject),
            description="Send processed work back to its specialist with a comment.",
        ),
        _amend_form(Role.TEAM_LEAD, _resolution_model(settings), workflow),
    ]


def admin_forms() -> list[FormConfig]:
    async def create(staff: StaffMember, data: NewStaff) -> str:
        account = await staff_accounts.create_staff(
            data.username, data.email, data.role, staff.actor
        )
        return (
            f"Created {account.username} ({account.role.value}). Temporary password, shown once: "
            f"{account.password} — they set up their authenticator at first sign-in."
        )

    async def set_role(staff: StaffMember, data: StaffRole) -> str:
        await staff_accounts.set_role(data.username, data.role, staff.actor)
        return f"{data.username} is now {data.role.value}; their sessions were ended."

    async def deactivate(staff: StaffMember, data: Username) -> str:
        ended = await staff_accounts.deactivate(data.username, staff.actor)
        return f"{data.username} is deactivated; {ended} session(s) ended."

    async def unlock(staff: StaffMember, data: Username) -> str:
        await staff_accounts.unlock(data.username, staff.actor)
        return f"{data.username} is unlocked."

    async def reset_mfa(staff: StaffMember, data: Username) -> str:
        await staff_accounts.reset_mfa(data.username, staff.actor)
        return f"{data.username} sets up a new authenticator at their next sign-in."

    async def new_key(staff: StaffMember, data: NewApiKey) -> str:
        try:
            scopes = [Scope(part.strip()) for part in data.scopes.split(",") if part.strip()]
        except ValueError:
            raise ValueError("Unknown scope; use the names listed under the field.") from None
        expires = timedelta(days=data.expires_in_days) if data.expires_in_days else None
        issued = await issue_key(data.name, scopes, expires_in=expires, actor=staff.actor)
        return f"API key for {issued.name}, shown once — copy it now: {issued.secret}"

    async def revoke(staff: StaffMember, data: RevokeApiKey) -> str:
        await revoke_key(data.prefix, actor=staff.actor, reason=data.reason)
        return f"Key {data.prefix} is revoked."

    forms: list[tuple[str, type[BaseModel], Callable[[StaffMember, Any], Awaitable[str]], str]] = [
        ("Create staff account", NewStaff, create, "A temporary password is shown once."),
        ("Change role", StaffRole, set_role, "Ends the account's sessions."),
        ("Deactivate staff account", Username, deactivate, "Ends every session at once."),
        ("Unlock staff account", Username, unlock, "After a lockout."),
        ("Reset MFA", Username, reset_mfa, "For a lost phone: enrol again at next sign-in."),
        ("Create API key", NewApiKey, new_key, "The key is shown once."),
        ("Revoke API key", RevokeApiKey, revoke, "Takes effect at once."),
    ]
    return [
        FormConfig(
            name=name, pydantic_model=model, endpoint=_action(Role.ADMIN, work), description=text
        )
        for name, model, work, text in forms
    ]
