"""What the back office's own pages (customers, corrections) share: who is signed in, the
posted form, free text checked for card numbers and IBANs, and answers as pages with a
sentence, never JSON."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.response import Response, Template

from admin.sign_in import SESSION_COOKIE
from gateway.edge.problems import exception_to_problem
from gateway.errors import BillingError, ErrorCode
from gateway.sensitive import sensitive_kind
from gateway.staff.login import StaffLogin
from gateway.staff.member import StaffMember
from gateway.staff.roles import MOUNT_OF_ROLE
from settings import get_settings

Form = dict[str, str]
NO_STORE = {"Cache-Control": "no-store"}


async def signed_in(request: Request[Any, Any, Any], login: StaffLogin) -> StaffMember | None:
    token = request.cookies.get(SESSION_COOKIE)
    return await login.resolve_session(token) if token else None


def back_office(staff: StaffMember) -> str:
    """The staff member's own piccolo-admin, where their lists are."""
    return f"{MOUNT_OF_ROLE[staff.role]}/"


async def read_form(request: Request[Any, Any, Any]) -> Form:
    """Each field's first value, stripped (these forms repeat no name)."""
    form = await request.form()
    return {key: str(form.get(key) or "").strip() for key in form}


def message(title: str, sentence: str, status_code: int) -> Template:
    return Template(
        template_name="page_message.html",
        context={"sandbox": get_settings().sandbox, "title": title, "sentence": sentence},
        status_code=status_code,
        headers=NO_STORE,
    )


def free_text(form: Form, name: str, label: str, *, required: bool = False) -> str:
    """The field's text; a card number or an IBAN in it is refused with a sentence that never
    repeats it. A required field needs a few words: it is kept and shown to the team."""
    value = form.get(name, "")
    found = sensitive_kind(value)
    if found is not None:
        what = "a card number" if found == "card_number" else "an IBAN"
        raise BillingError(
            ErrorCode.CARD_NUMBER_NOT_ACCEPTED
            if found == "card_number"
            else ErrorCode.IBAN_OUTSIDE_IBAN_FIELD,
            f"The {label} holds {what}. Leave it out: the gateway never keeps card numbers, "
            "and bank details are shown masked only.",
        )
    if required and len(value) < 3:
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            f"Write a {label} of a few words: it is kept with the correction and shown to the "
            "team.",
        )
    return value


def error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """An error no action turned into a sentence (the database unreachable, a bug): the app's
    problem, logged and redacted as everywhere, shown as a page."""
    problem = exception_to_problem(request, exc)
    body = msgspec.json.decode(problem.content) if isinstance(problem.content, bytes) else {}
    sentence = str(body.get("detail") or "Something went wrong; try again.")
    if body.get("request_id"):
        sentence += f" (request {body['request_id']})"
    return Template(
        template_name="page_message.html",
        context={"sandbox": get_settings().sandbox, "title": "Back office", "sentence": sentence},
        status_code=problem.status_code or 500,
        headers={**dict(problem.headers), **NO_STORE},
    )
