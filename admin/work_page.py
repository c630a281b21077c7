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
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from admin.page_kit import Refused, staff_page
from admin.work_actions import REQUEST_ACTIONS, STEP_ACTIONS, WorkAction, WorkContext
from admin.work_request import WorkRequest, assignable_specialists, read_work_request
from admin.work_view import page_context, shown
from gateway.core.crypto import Cipher
from gateway.core.errors import HTTP_STATUS, BillingError
from gateway.edge.problems import exception_to_problem
from gateway.fulfilment.checks import ChecksService
from gateway.fulfilment.service import FulfilmentService
from gateway.i18n import N_, gettext, translate
from gateway.providers import Providers
from gateway.staff.login import StaffLogin
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import Settings, get_settings

PATH = "/staff/requests"
NOT_FOUND = N_(
    "No such request in your queue. Open a request from your list; a request assigned to "
    "someone else is theirs."
)
WRONG_ROLE = N_("The work page is for specialists and team leads.")
NO_SUCH_ACTION = N_("The work page has no such action.")
# Named, not "everyone but admins": a role added later opens nothing here until it is listed.
WORKERS = frozenset({Role.SPECIALIST, Role.TEAM_LEAD})


def _message(settings: Settings, sentence: str, status_code: int) -> Template:
    return Template(
        template_name="work_message.html",
        context={"sandbox": settings.sandbox, "sentence": translate(sentence)},
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


async def _form(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    """Every field with all its values (checkboxes repeat a name), stripped."""
    form = await request.form()
    return {key: [str(value).strip() for value in form.getall(key)] for key in form}


def _checks_service(
    settings: NamedDependency[Settings], providers: NamedDependency[Providers]
) -> ChecksService:
    """Built once (cached) over the app's providers: the same adapters and connections."""
    return ChecksService(settings, providers, Cipher(settings.keys))


def _error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """An error no action turned into a sentence on the page (the database unreachable, a
    bug): the app's problem, logged and redacted as everywhere, shown as a page, not JSON."""
    if isinstance(exc, Refused):
        return exc.response
    problem = exception_to_problem(request, exc)
    body = msgspec.json.decode(problem.content) if isinstance(problem.content, bytes) else {}
    if isinstance(exc, BillingError) and body.get("detail"):
        sentence = shown(exc.detail)
    else:
        sentence = str(body.get("detail") or gettext("Something went wrong; try again."))
    if body.get("request_id"):
        sentence += " " + gettext("(request %(id)s)") % {"id": body["request_id"]}
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
        staff = await staff_page(
            request, login, WORKERS, lambda: _message(settings, WRONG_ROLE, 403)
        )
        found = await read_work_request(staff, request_id)
        if found is None:
            return _message(settings, NOT_FOUND, 404)
        return await _page(settings, staff, found, fulfilment, done=done)

    @post("/{request_id:uuid}/{action:str}", status_code=303)
    async def act(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[uuid.UUID],
        action: FromPath[str],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        fulfilment: NamedDependency[FulfilmentService],
        checks_service: NamedDependency[ChecksService],
    ) -> Template | Redirect:
        """Every form of the page about the request (admin/work_actions.py)."""
        chosen = REQUEST_ACTIONS.get(action)
        ids = (request_id, None)
        return await _act(request, ids, settings, login, fulfilment, checks_service, chosen)

    @post("/{request_id:uuid}/steps/{step_id:uuid}/{action:str}", status_code=303)
    async def act_on_step(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[uuid.UUID],
        step_id: FromPath[uuid.UUID],
        action: FromPath[str],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        fulfilment: NamedDependency[FulfilmentService],
        checks_service: NamedDependency[ChecksService],
    ) -> Template | Redirect:
        """A team lead's forms about one step of a run: retry it, or settle it by hand."""
        chosen = STEP_ACTIONS.get(action)
        ids = (request_id, step_id)
        return await _act(request, ids, settings, login, fulfilment, checks_service, chosen)


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
        specialists=await assignable_specialists() if staff.role is Role.TEAM_LEAD else None,
    )
    return Template(
        template_name="work.html",
        context=context,
        status_code=HTTP_STATUS[error.code] if error else 200,
        headers={"Cache-Control": "no-store"},
    )


async def _act(
    request: Request[Any, Any, Any],
    ids: tuple[uuid.UUID, uuid.UUID | None],
    settings: Settings,
    login: StaffLogin,
    fulfilment: FulfilmentService,
    checks: ChecksService,
    action: WorkAction | None,
) -> Template | Redirect:
    """Run `action` for the signed-in staff member on a request they may open; then back to
    the page (303, so that a reload asks nothing again), or the page with the refusal's
    sentence."""
    request_id, step_id = ids
    staff = await staff_page(request, login, WORKERS, lambda: _message(settings, WRONG_ROLE, 403))
    if action is None:
        return _message(settings, NO_SUCH_ACTION, 404)
    if await read_work_request(staff, request_id) is None:
        return _message(settings, NOT_FOUND, 404)
    form = await _form(request)
    context = WorkContext(staff, request_id, step_id, form, settings, fulfilment, checks)
    try:
        done = await action(context)
    except BillingError as refusal:
        found = await read_work_request(staff, request_id)
        if found is None:
            return _message(settings, NOT_FOUND, 404)
        return await _page(settings, staff, found, fulfilment, error=refusal)
    return Redirect(f"{PATH}/{request_id}?done={done}", status_code=303)
