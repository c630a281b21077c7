"""What the back office's own pages (customers, corrections) share: who is signed in, the
posted form, free text checked for card numbers and IBANs, and answers as pages with a
sentence, never JSON."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, NamedTuple

import msgspec
from litestar import Request
from litestar.response import Redirect, Response, Template

from admin.sign_in import SESSION_COOKIE
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import refuse_card_or_iban
from gateway.edge.problems import exception_to_problem
from gateway.i18n import N_, Message, gettext, translate
from gateway.staff.login import StaffLogin
from gateway.staff.member import StaffMember
from gateway.staff.roles import MOUNT_OF_ROLE, Role
from settings import get_settings

Form = dict[str, str]
NO_STORE = {"Cache-Control": "no-store"}


async def signed_in(request: Request[Any, Any, Any], login: StaffLogin) -> StaffMember | None:
    token = request.cookies.get(SESSION_COOKIE)
    return await login.resolve_session(token) if token else None


class Refused(Exception):  # noqa: N818 - a page's answer, not an error
    """A page answered before its work begins: the sign-in page, or the wrong role's page."""

    def __init__(self, response: Response[Any]) -> None:
        super().__init__()
        self.response = response


async def staff_page(
    request: Request[Any, Any, Any],
    login: StaffLogin,
    roles: Collection[Role] | None = None,
    wrong_role: Callable[[], Response[Any]] | None = None,
) -> StaffMember:
    """The signed-in staff member a page serves. Anyone else gets `Refused`, which every page
    controller's `error_page` answers: the sign-in page (303 after a POST), or `wrong_role()`'s
    page for a role outside `roles`."""
    staff = await signed_in(request, login)
    if staff is None:
        raise Refused(
            Redirect("/staff/login", status_code=303 if request.method == "POST" else 302)
        )
    if roles is not None and staff.role not in roles:
        assert wrong_role is not None, "a page limited to some roles says what the others see"
        raise Refused(wrong_role())
    return staff


def back_office(staff: StaffMember) -> str:
    """The staff member's own piccolo-admin, where their lists are."""
    return f"{MOUNT_OF_ROLE[staff.role]}/"


async def read_form(request: Request[Any, Any, Any]) -> Form:
    """Each field's first value, stripped (these forms repeat no name)."""
    form = await request.form()
    return {key: str(form.get(key) or "").strip() for key in form}


def message(title: str, sentence: str, status_code: int) -> Template:
    """A page with one sentence. `title` and `sentence` are said in the reader's language when
    they are Messages or marked strings (`N_`); anything else shows as it is."""
    return _sentence_page(translate(title), translate(sentence), status_code)


def _sentence_page(
    title: str, sentence: str, status_code: int, headers: dict[str, str] | None = None
) -> Template:
    return Template(
        template_name="page_message.html",
        context={"sandbox": get_settings().sandbox, "title": title, "sentence": sentence},
        status_code=status_code,
        headers={**(headers or {}), **NO_STORE},
    )


def _said(label: str) -> Message:
    """A field's name, as a value of a sentence: said again in the reader's language."""
    return label if isinstance(label, Message) else Message(label)


class Wording(NamedTuple):
    """What a page says of a field's free text (templates marked with `N_`, each naming the
    field as {label}): when it holds {what}, a card number or an IBAN; when too short."""

    holds: str
    few_words: str


PAGE_WORDING = Wording(
    N_(
        "The {label} holds {what}. Leave it out: the gateway never keeps card numbers, and bank "
        "details are shown masked only."
    ),
    N_("Write a {label} of a few words: it is kept with the correction and shown to the team."),
)


def free_text(
    form: Mapping[str, str],
    name: str,
    label: str,
    *,
    required: bool = False,
    wording: Wording = PAGE_WORDING,
) -> str:
    """The field's text; a card number or an IBAN in it, in any spelling, is refused with a
    sentence that never repeats it. A required field needs a few words: it is kept and shown
    to the team. `label` names the field in English, marked for translation (`N_("reason")`)
    or a Message."""
    value = form.get(name, "")
    field = _said(label)
    refuse_card_or_iban(
        value,
        card=Message(wording.holds, label=field, what=Message(N_("a card number"))),
        iban=Message(wording.holds, label=field, what=Message(N_("an IBAN"))),
    )
    if required and len(value) < 3:
        raise BillingError(ErrorCode.VALIDATION_FAILED, Message(wording.few_words, label=field))
    return value


def error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """An error no action turned into a sentence (the database unreachable, a bug): the app's
    problem, logged and redacted as everywhere, shown as a page in the reader's language."""
    if isinstance(exc, Refused):
        return exc.response
    problem = exception_to_problem(request, exc)
    body = msgspec.json.decode(problem.content) if isinstance(problem.content, bytes) else {}
    status_code = problem.status_code or 500
    if isinstance(exc, BillingError):
        sentence = translate(exc.detail)
    elif status_code == 503:
        sentence = gettext("The back office cannot reach its database just now; try again.")
    elif status_code >= 500 or not body.get("detail"):
        sentence = gettext("Something went wrong; try again.")
    else:
        sentence = translate(str(body["detail"]))
    if body.get("request_id"):
        reference = Message("(request {request_id})", request_id=str(body["request_id"]))
        sentence = f"{sentence} {translate(reference)}"
    return _sentence_page(
        gettext("Back office"), sentence, status_code, headers=dict(problem.headers)
    )
