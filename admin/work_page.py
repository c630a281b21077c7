"""The work page: one page per change request, where a specialist applies it and a team lead
approves its plan, reviews it, or deals with a failed step.

Purpose-built (piccolo-admin 1.14 has no row actions); the lists, filters and CSV export stay
in piccolo-admin, whose request rows open this page (admin.work_links). Every action is a
plain form POST, CSRF-checked by the app's CSRF config (which covers /staff), that calls a
gateway service with the signed-in staff member; the services decide who may do what (the
maker never approves their own work), and a refusal is shown as its sentence.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from admin.sign_in import SESSION_COOKIE
from admin.work_reasons import chosen_reasons, record_reasons
from admin.work_request import WorkRequest, read_work_request
from admin.work_view import page_context
from gateway.change_requests.states import Transition
from gateway.change_requests.workflow import WorkflowService
from gateway.crypto import Cipher
from gateway.edge.problems import exception_to_problem
from gateway.errors import HTTP_STATUS, BillingError, ErrorCode
from gateway.fulfilment.checks import ChecksService
from gateway.fulfilment.service import Applier, FulfilmentService
from gateway.providers import Providers
from gateway.sensitive import sensitive_kind
from gateway.staff.login import StaffLogin
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import Settings, get_settings

PATH = "/staff/requests"
NOT_FOUND = (
    "No such request in your queue. Open a request from your list; a request assigned to "
    "someone else is theirs."
)
WRONG_ROLE = "The work page is for specialists and team leads."
Action = Callable[[StaffMember], Awaitable[str]]


def _message(settings: Settings, sentence: str, status_code: int) -> Template:
    return Template(
        template_name="work_message.html",
        context={"sandbox": settings.sandbox, "sentence": sentence},
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


async def _signed_in(request: Request[Any, Any, Any], login: StaffLogin) -> StaffMember | None:
    token = request.cookies.get(SESSION_COOKIE)
    return await login.resolve_session(token) if token else None


async def _form(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    """Every field with all its values (checkboxes repeat a name), stripped."""
    form = await request.form()
    return {key: [str(value).strip() for value in form.getall(key)] for key in form}


def _one(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def _checks_service(
    settings: NamedDependency[Settings], providers: NamedDependency[Providers]
) -> ChecksService:
    """Built once (cached) over the app's providers: the same adapters and connections."""
    return ChecksService(settings, providers, Cipher(settings.keys))


def _error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """An error no action turned into a sentence on the page (the database unreachable, a
    bug): the app's problem, logged and redacted as everywhere, shown as a page, not JSON."""
    problem = exception_to_problem(request, exc)
    body = msgspec.json.decode(problem.content) if isinstance(problem.content, bytes) else {}
    sentence = str(body.get("detail") or "Something went wrong; try again.")
    if body.get("request_id"):
        sentence += f" (request {body['request_id']})"
    return Template(
        template_name="work_message.html",
        context={"sandbox": get_settings().sandbox, "sentence": sentence},
        status_code=problem.status_code or 500,
        headers={**dict(problem.headers), "Cache-Control": "no-store"},
    )


class WorkPageController(Controller):
    path = PATH
    include_in_schema = False
    exception_handlers = {Exception: _error_page}
    dependencies = {
        "checks_service": Provide(_checks_service, use_cache=True, sync_to_thread=False)
    }

    @get("/{request_id:uuid}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        fulfilment: NamedDependency[FulfilmentService],
        done: FromQuery[str | None] = None,
    ) -> Template | Redirect:
        staff = await _signed_in(request, login)
        if staff is None:
            return Redirect("/staff/login")
        if staff.role is Role.ADMIN:
            return _message(settings, WRONG_ROLE, 403)
        found = await read_work_request(staff, request_id)
        if found is None:
            return _message(settings, NOT_FOUND, 404)
        return await _page(settings, staff, found, fulfilment, done=done)

    @post("/{request_id:uuid}/apply", status_code=303)
    async def apply(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        fulfilment: NamedDependency[FulfilmentService],
    ) -> Template | Redirect:
        form = await _form(request)

        async def apply(staff: StaffMember) -> str:
            reasons = chosen_reasons(settings, form.get("reason", []))
            try:
                await fulfilment.apply(
                    request_id,
                    Applier.of_staff(staff),
                    _one(form, "preview_id") or None,
                    frozenset(form.get("acknowledge", [])),
                    _free_text(form, "identity_mismatch_reason") or None,
                )
            except BillingError as refusal:
                # Policy "before": the plan is written down and waits for a team lead.
                if refusal.code is not ErrorCode.APPROVAL_REQUIRED:
                    raise
                await record_reasons(staff, request_id, reasons)
                return "awaiting_approval"
            await record_reasons(staff, request_id, reasons)
            return "applying"

        return await _act(request, request_id, settings, login, fulfilment, apply)

    @post("/{request_id:uuid}/rework", status_code=303)
    async def rework(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        fulfilment: NamedDependency[FulfilmentService],
    ) -> Template | Redirect:
        """A request a team lead sent back: the specialist takes it up again, to apply anew."""

        async def rework(staff: StaffMember) -> str:
            await WorkflowService(settings).step(staff, str(request_id), Transition.REWORK)
            return "reworked"

        return await _act(request, request_id, settings, login, fulfilment, rework)

    @post("/{request_id:uuid}/checks", status_code=303)
    async def refresh_checks(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        fulfilment: NamedDependency[FulfilmentService],
        checks_service: NamedDependency[ChecksService],
    ) -> Template | Redirect:
        async def refresh(_staff: StaffMember) -> str:
            await checks_service.refresh(request_id, "manual")
            return "checks"

        return await _act(request, request_id, settings, login, fulfilment, refresh)

    @post("/{request_id:uuid}/contract", status_code=303)
    async def record_contract(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        fulfilment: NamedDependency[FulfilmentService],
        checks_service: NamedDependency[ChecksService],
    ) -> Template | Redirect:
        form = await _form(request)

        async def record(staff: StaffMember) -> str:
            received_on = _received_on(_one(form, "received_on"))
            await checks_service.record_contract_return(
                staff, request_id, _free_text(form, "how"), received_on
            )
            return "contract"

        return await _act(request, request_id, settings, login, fulfilment, record)

    @post("/{request_id:uuid}/approve-plan", status_code=303)
    async def approve_plan(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        fulfilment: NamedDependency[FulfilmentService],
    ) -> Template | Redirect:
        async def approve(staff: StaffMember) -> str:
            await fulfilment.approve_plan(staff, request_id)
            return "plan_approved"

        return await _act(request, request_id, settings, login, fulfilment, approve)

    @post("/{request_id:uuid}/refuse-plan", status_code=303)
    async def refuse_plan(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        fulfilment: NamedDependency[FulfilmentService],
    ) -> Template | Redirect:
        form = await _form(request)

        async def refuse(staff: StaffMember) -> str:
            await fulfilment.refuse_plan(staff, request_id, _required(form, "comment"))
            return "plan_refused"

        return await _act(request, request_id, settings, login, fulfilment, refuse)

    @post("/{request_id:uuid}/approve", status_code=303)
    async def approve(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        fulfilment: NamedDependency[FulfilmentService],
    ) -> Template | Redirect:
        async def approve(staff: StaffMember) -> str:
            await WorkflowService(settings).approve(staff, str(request_id))
            return "approved"

        return await _act(request, request_id, settings, login, fulfilment, approve)

    @post("/{request_id:uuid}/reject", status_code=303)
    async def reject(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        fulfilment: NamedDependency[FulfilmentService],
    ) -> Template | Redirect:
        form = await _form(request)

        async def reject(staff: StaffMember) -> str:
            comment = _required(form, "comment")
            await WorkflowService(settings).reject(staff, str(request_id), comment)
            return "rejected"

        return await _act(request, request_id, settings, login, fulfilment, reject)

    @post("/{request_id:uuid}/steps/{step_id:uuid}/retry", status_code=303)
    async def retry_step(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[uuid.UUID],
        step_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        fulfilment: NamedDependency[FulfilmentService],
    ) -> Template | Redirect:
        async def retry(staff: StaffMember) -> str:
            await fulfilment.retry_step(staff, step_id)
            return "retried"

        return await _act(request, request_id, settings, login, fulfilment, retry)

    @post("/{request_id:uuid}/steps/{step_id:uuid}/settle", status_code=303)
    async def settle_step(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[uuid.UUID],
        step_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        fulfilment: NamedDependency[FulfilmentService],
    ) -> Template | Redirect:
        form = await _form(request)

        async def settle(staff: StaffMember) -> str:
            reason = _required(form, "reason")
            created = _free_text(form, "provider_id") or None
            await fulfilment.settle_by_hand(staff, step_id, reason, created)
            return "settled"

        return await _act(request, request_id, settings, login, fulfilment, settle)


# Free text a staff member types (from a ticket) is stored, audited and shown to the team.
FREE_TEXT = {
    "comment": "comment",
    "reason": "reason",
    "identity_mismatch_reason": "reason you are sure",
    "how": "way the contract came back",
    "provider_id": "id",
}


def _free_text(form: dict[str, list[str]], name: str) -> str:
    """The field's text; a card number or an IBAN in it, in any spelling, is refused with a
    sentence that never repeats it."""
    value = _one(form, name)
    found = sensitive_kind(value)
    if found is not None:
        what = "a card number" if found == "card_number" else "an IBAN"
        raise BillingError(
            ErrorCode.CARD_NUMBER_NOT_ACCEPTED
            if found == "card_number"
            else ErrorCode.IBAN_OUTSIDE_IBAN_FIELD,
            f"The {FREE_TEXT.get(name, name)} holds {what}. Leave it out: bank details live "
            "only in the change request, encrypted, and card numbers are never stored.",
        )
    return value


def _required(form: dict[str, list[str]], name: str) -> str:
    value = _free_text(form, name)
    if len(value) < 3:
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            f"Write a {name} of a few words: it is kept with the request and shown to the team.",
        )
    return value


def _received_on(text: str) -> date:
    try:
        received = date.fromisoformat(text)
    except ValueError:
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            "Give the day the signed contract came back (YYYY-MM-DD).",
        ) from None
    if received > date.today():
        raise BillingError(
            ErrorCode.VALIDATION_FAILED, "The day the contract came back cannot be in the future."
        )
    return received


async def _page(
    settings: Settings,
    staff: StaffMember,
    found: WorkRequest,
    fulfilment: FulfilmentService,
    *,
    error: BillingError | None = None,
    done: str | None = None,
) -> Template:
    context = page_context(
        settings,
        staff,
        found,
        await fulfilment.view(found.id),
        error=error.detail if error else None,
        done=done,
    )
    return Template(
        template_name="work.html",
        context=context,
        status_code=HTTP_STATUS[error.code] if error else 200,
        headers={"Cache-Control": "no-store"},
    )


async def _act(
    request: Request[Any, Any, Any],
    request_id: uuid.UUID,
    settings: Settings,
    login: StaffLogin,
    fulfilment: FulfilmentService,
    action: Action,
) -> Template | Redirect:
    """Run `action` for the signed-in staff member on a request they may open; then back to
    the page (303, so that a reload asks nothing again), or the page with the refusal's
    sentence."""
    staff = await _signed_in(request, login)
    if staff is None:
        return Redirect("/staff/login", status_code=303)
    if staff.role is Role.ADMIN:
        return _message(settings, WRONG_ROLE, 403)
    if await read_work_request(staff, request_id) is None:
        return _message(settings, NOT_FOUND, 404)
    try:
        done = await action(staff)
    except BillingError as refusal:
        found = await read_work_request(staff, request_id)
        if found is None:
            return _message(settings, NOT_FOUND, 404)
        return await _page(settings, staff, found, fulfilment, error=refusal)
    return Redirect(f"{PATH}/{request_id}?done={done}", status_code=303)
