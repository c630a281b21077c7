"""The back office's actions, as piccolo-admin forms. Each one calls a gateway service with the
signed-in staff member; the services check role, assignee and maker-checker themselves.

Names, group names, descriptions, field titles and choice labels are English, marked for
extraction: the guard translates piccolo-admin's JSON on the way out. A field with a fixed set of
values offers them as choices by label (`admin.form_choices`); a request, a specialist or a
contact reason is chosen from what the staff member may act on (`live_choices`).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from piccolo_admin.endpoints import FormConfig
from pydantic import BaseModel, BeforeValidator, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request

from admin.form_choices import choice_field, english_label, enum_labels
from admin.free_text import FormModel, refuse_card_or_iban
from admin.guard import current_staff
from audit.reading import read_audit_entry
from gateway.api_keys.scopes import Scope
from gateway.api_keys.service import issue_key, revoke_key
from gateway.change_requests.lifecycle import return_open_requests
from gateway.change_requests.states import Kind, Transition
from gateway.change_requests.workflow import SPECIALIST_STEPS, WorkflowService
from gateway.core.errors import HTTP_STATUS, BillingError
from gateway.i18n import N_, Message, gettext, translate
from gateway.i18n.labels import label
from gateway.staff import service as staff_accounts
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import Settings

Model = TypeVar("Model", bound=BaseModel)
REQUESTS, REVIEW, FRAUD_STOP = N_("Requests"), N_("Review"), N_("Fraud-stop")
STAFF_AND_KEYS, AUDIT = N_("Staff and keys"), N_("Audit")
REQUEST_TITLE = N_("Request")
REQUEST_HELP = N_("Choose the request: its ticket, company and status are shown.")
ANY_KIND = N_("Any kind")
DEFAULT_SCOPES = [str(s) for s in Scope if s is not Scope.CHANGE_REQUESTS_ALL_CLIENTS]


def staff_action(
    role: Role, work: Callable[[StaffMember, Model], Awaitable[str]]
) -> Callable[[Request, Model], Coroutine[Any, Any, str]]:
    """Run `work` as the signed-in staff member of `role`; a refusal is shown on the form as a
    sentence in the staff member's language, and so is the answer.
    The guard already checked the role; checking again here costs nothing."""

    async def endpoint(_request: Request, data: Model) -> str:
        staff = current_staff.get()
        if staff is None or staff.role is not role:
            raise HTTPException(status_code=403, detail=gettext("Sign in with the right role."))
        refuse_card_or_iban(data)
        try:
            return translate(await work(staff, data))
        except BillingError as error:
            status = HTTP_STATUS[error.code]
            if status in (401, 403):
                raise HTTPException(status_code=status, detail=translate(error.detail)) from None
            raise ValueError(translate(error.detail)) from None

    return endpoint


EnumType = TypeVar("EnumType", bound=enum.Enum)


def _parse(kind: type[EnumType], value: str, among: tuple[EnumType, ...] = ()) -> EnumType:
    allowed = among or tuple(kind)
    try:
        member = kind(value)
    except ValueError:
        member = None
    if member is None or member not in allowed:
        names = ", ".join(label(item) for item in allowed)
        raise ValueError(translate(Message("Choose one of: {names}.", names=names)))
    return member


def _listed(value: Any) -> Any:
    """A list as a form sends it, or as text ("a, b") as forms sent it before they had choices."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _request_field(**field: Any) -> Any:
    return choice_field(title=REQUEST_TITLE, description=REQUEST_HELP, max_length=200, **field)


ROLE_LABELS = enum_labels(Role)


class ClaimNext(FormModel):
    kind: str = choice_field(
        {"any": ANY_KIND, **enum_labels(Kind)}, default="any", title=N_("Kind")
    )


class UpdateStatus(FormModel):
    request: str = _request_field(min_length=1)
    step: str = choice_field(enum_labels(SPECIALIST_STEPS), title=N_("Step"), max_length=40)


class Assign(FormModel):
    request: str = _request_field(min_length=1)
    specialist: str = choice_field(
        title=N_("Specialist"), description=N_("An active billing specialist."), min_length=1
    )


class Approve(FormModel):
    request: str = _request_field(min_length=1)


class Reject(FormModel):
    request: str = _request_field(min_length=1)
    comment: str = Field(
        title=N_("Comment"),
        description=N_("What to fix; the specialist sees it."),
        min_length=3,
        max_length=2000,
    )


class StaffRole(FormModel):
    username: str = Field(title=N_("Username"), min_length=1, max_length=100)
    role: str = choice_field(ROLE_LABELS, title=N_("Role"), max_length=20)


class NewStaff(FormModel):
    username: str = Field(title=N_("Username"), min_length=1, max_length=100)
    email: str = Field(title=N_("Email"), min_length=3, max_length=255)
    role: str = choice_field(ROLE_LABELS, title=N_("Role"), max_length=20)
    first_name: str = Field(
        default="",
        title=N_("First name"),
        max_length=100,
        description=N_(
            "Optional; with the last name, the initials an operations member's "
            "cheques carry (else the username's first two letters)."
        ),
    )
    last_name: str = Field(default="", title=N_("Last name"), max_length=100)


class Username(FormModel):
    username: str = Field(title=N_("Username"), min_length=1, max_length=100)


class NewApiKey(FormModel):
    name: str = Field(
        title=N_("Name"),
        min_length=1,
        max_length=100,
        description=N_("The support tool it is for."),
    )
    client: str | None = Field(
        default=None,
        title=N_("Client"),
        max_length=100,
        description=N_(
            "The organisation it belongs to (default: a client of its own). Its keys "
            "share its requests: give the old key's client when rotating."
        ),
    )
    # all-clients is given only on purpose: a key normally sees its own client's requests
    scopes: Annotated[list[str], BeforeValidator(_listed)] = choice_field(
        enum_labels(Scope),
        default=DEFAULT_SCOPES,
        title=N_("Scopes"),
        description=N_("What the key may do."),
        min_length=1,
    )
    expires_in_days: int | None = Field(default=365, title=N_("Expires in (days)"), ge=1, le=3650)


class RevokeApiKey(FormModel):
    prefix: str = Field(
        title=N_("Key prefix"),
        min_length=1,
        max_length=16,
        description=N_("As shown in the key list."),
    )
    reason: str = Field(title=N_("Reason"), min_length=3, max_length=500)


class AuditEntryRef(FormModel):
    seq: int = Field(
        title=N_("Entry number"),
        description=N_("The entry's number in the audit trail (its seq)."),
    )
    why: str = Field(
        title=N_("Why"), description=N_("Why you need to read it: kept with the reading.")
    )


class Resolution(FormModel):
    request: str = _request_field(min_length=1)
    resolution_note: str = Field(title=N_("Resolution note"), min_length=3, max_length=2000)
    contact_reasons: Annotated[list[str], BeforeValidator(_listed)] = choice_field(
        title=N_("Contact reasons"),
        description=N_("The contact-reason codes of the ticket."),
        min_length=1,
        max_length=20,
    )


def _reasons_from(settings: Settings, given: list[str]) -> list[str]:
    """Contact reasons chosen by their codes (or, as typed before, by their numbers in the
    configured list)."""
    codes = settings.all_contact_reasons
    by_text = {code.lower(): code for code in codes}
    chosen = []
    for part in (part.strip() for part in given):
        if part.isdigit() and 1 <= int(part) <= len(codes):
            chosen.append(codes[int(part) - 1])
        elif part.lower() in by_text:
            chosen.append(by_text[part.lower()])
        elif part:
            raise ValueError(
                translate(Message("Unknown contact reason: choose them from the list."))
            )
    return list(dict.fromkeys(chosen))


def _amend_form(role: Role, settings: Settings, workflow: WorkflowService) -> FormConfig:
    async def amend(staff: StaffMember, data: Resolution) -> str:
        reasons = _reasons_from(settings, data.contact_reasons)
        item = await workflow.amend(staff, data.request, data.resolution_note, reasons)
        return Message("{ticket} is amended and goes back to review.", ticket=item.ticket)

    return FormConfig(
        name=N_("Amend resolution"),
        pydantic_model=Resolution,
        endpoint=staff_action(role, amend),
        description=N_(
            "Correct a processed request. An approval it had is voided, and whoever "
            "amends it cannot approve it."
        ),
        form_group=REVIEW,
    )


def specialist_forms(settings: Settings, workflow: WorkflowService) -> list[FormConfig]:
    async def claim(staff: StaffMember, data: ClaimNext) -> str:
        kind = None if data.kind == "any" else _parse(Kind, data.kind)
        item = await workflow.claim_next(staff, kind)
        return Message(
            "{ticket} ({kind}) is yours and in progress.",
            ticket=item.ticket,
            kind=Message(english_label(item.kind)),
        )

    async def update(staff: StaffMember, data: UpdateStatus) -> str:
        step = _parse(Transition, data.step, SPECIALIST_STEPS)
        item = await workflow.step(staff, data.request, step)
        return Message(
            "{ticket} is now: {status}.",
            ticket=item.ticket,
            status=Message(english_label(item.status)),
        )

    return [
        FormConfig(
            name=N_("Claim next request"),
            pydantic_model=ClaimNext,
            endpoint=staff_action(Role.SPECIALIST, claim),
            description=N_(
                "Take the oldest unassigned request of the kind you choose and start it."
            ),
            form_group=REQUESTS,
        ),
        FormConfig(
            name=N_("Update status"),
            pydantic_model=UpdateStatus,
            endpoint=staff_action(Role.SPECIALIST, update),
            description=N_(
                "Move one of your requests on: start it, wait for the customer, resume it, "
                "or take up again a request a team lead sent back."
            ),
            form_group=REQUESTS,
        ),
        _amend_form(Role.SPECIALIST, settings, workflow),
    ]


def lead_forms(settings: Settings, workflow: WorkflowService) -> list[FormConfig]:
    async def assign(staff: StaffMember, data: Assign) -> str:
        item = await workflow.assign(staff, data.request, data.specialist)
        return Message(
            "{ticket} is assigned to {specialist}.", ticket=item.ticket, specialist=data.specialist
        )

    async def approve(staff: StaffMember, data: Approve) -> str:
        item = await workflow.approve(staff, data.request)
        return Message("{ticket} is approved.", ticket=item.ticket)

    async def reject(staff: StaffMember, data: Reject) -> str:
        item = await workflow.reject(staff, data.request, data.comment)
        return Message(
            "{ticket} is back with its specialist, with your comment.", ticket=item.ticket
        )

    return [
        FormConfig(
            name=N_("Assign request"),
            pydantic_model=Assign,
            endpoint=staff_action(Role.TEAM_LEAD, assign),
            description=N_("Assign or reassign an open request to a specialist."),
            form_group=REQUESTS,
        ),
        FormConfig(
            name=N_("Approve request"),
            pydantic_model=Approve,
            endpoint=staff_action(Role.TEAM_LEAD, approve),
            description=N_(
                "Approve applied work from the review queue. Work you applied yourself is not "
                "offered: another team lead reviews it."
            ),
            form_group=REVIEW,
        ),
        FormConfig(
            name=N_("Reject request"),
            pydantic_model=Reject,
            endpoint=staff_action(Role.TEAM_LEAD, reject),
            description=N_("Send applied work back to its specialist with a comment."),
            form_group=REVIEW,
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
        return Message(
            "Created {username} ({role}). Temporary password, shown once: {password} — they "
            "set up their authenticator at first sign-in.",
            username=account.username,
            role=Message(english_label(account.role)),
            password=account.password,
        )

    async def set_role(staff: StaffMember, data: StaffRole) -> str:
        role = _parse(Role, data.role)
        await staff_accounts.set_role(data.username, role, staff.actor)
        return Message(
            "{username} is now: {role}. Their sessions were ended.",
            username=data.username,
            role=Message(english_label(role)),
        )

    async def deactivate(staff: StaffMember, data: Username) -> str:
        done = await staff_accounts.deactivate(data.username, staff.actor, return_open_requests)
        return done.sentence(data.username)

    async def unlock(staff: StaffMember, data: Username) -> str:
        await staff_accounts.unlock(data.username, staff.actor)
        return Message("{username} is unlocked.", username=data.username)

    async def reset_password(staff: StaffMember, data: Username) -> str:
        password = await staff_accounts.reset_password(data.username, staff.actor)
        return Message(
            "New temporary password for {username}, shown once: {password}",
            username=data.username,
            password=password,
        )

    async def reset_mfa(staff: StaffMember, data: Username) -> str:
        await staff_accounts.reset_mfa(data.username, staff.actor)
        return Message(
            "{username} sets up a new authenticator at their next sign-in.",
            username=data.username,
        )

    async def new_key(staff: StaffMember, data: NewApiKey) -> str:
        scopes = [_parse(Scope, code) for code in data.scopes]
        expires = timedelta(days=data.expires_in_days) if data.expires_in_days else None
        issued = await issue_key(
            data.name, scopes, expires_in=expires, client=data.client or None, actor=staff.actor
        )
        return Message(
            "API key for {name} (client {client}), shown once — copy it now: {secret}",
            name=issued.name,
            client=issued.client,
            secret=issued.secret,
        )

    async def revoke(staff: StaffMember, data: RevokeApiKey) -> str:
        await revoke_key(data.prefix, actor=staff.actor, reason=data.reason)
        return Message("Key {prefix} is revoked.", prefix=data.prefix)

    forms: list[tuple[str, type[BaseModel], Callable[[StaffMember, Any], Awaitable[str]], str]] = [
        (N_("Create staff account"), NewStaff, create, N_("A temporary password is shown once.")),
        (N_("Change role"), StaffRole, set_role, N_("Ends the account's sessions.")),
        (N_("Deactivate staff account"), Username, deactivate, N_("Ends every session at once.")),
        (N_("Unlock staff account"), Username, unlock, N_("After a lockout.")),
        (
            N_("Reset password"),
            Username,
            reset_password,
            N_("Shown once; ends the account's sessions."),
        ),
        (
            N_("Reset MFA"),
            Username,
            reset_mfa,
            N_("For a lost phone: enrol again at next sign-in."),
        ),
        (N_("Create API key"), NewApiKey, new_key, N_("The key is shown once.")),
        (N_("Revoke API key"), RevokeApiKey, revoke, N_("Takes effect at once.")),
    ]
    return [
        FormConfig(
            name=name,
            pydantic_model=model,
            endpoint=staff_action(Role.ADMIN, work),
            description=text,
            form_group=STAFF_AND_KEYS,
        )
        for name, model, work, text in forms
    ]


def audit_reading_form(role: Role) -> FormConfig:
    """Read one entry's payload. The reading is itself an audit entry (who, which, why)."""

    async def read(staff: StaffMember, data: AuditEntryRef) -> str:
        return await read_audit_entry(data.seq, data.why, staff.actor)

    return FormConfig(
        name=N_("Decrypt audit entry"),
        pydantic_model=AuditEntryRef,
        endpoint=staff_action(role, read),
        description=N_("Shows one entry's reason and before/after; your reading is recorded."),
        form_group=AUDIT,
    )
