"""The Corrections queue, for team leads and admins: every correction waiting for a second
person, oldest first, with exactly what will run; Approve (bound to the payload hash shown) or
Refuse with a reason; and the recent decisions below. One correction's own page
(`/staff/corrections/{id}`) is open to every role: it is where a filed correction is followed.

The service decides: the maker never approves their own correction (admins included), and an
approval of a payload that changed since it was shown is refused; both show as sentences.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from admin.correction_view import LIVE, view_helpers
from admin.page_kit import (
    NO_STORE,
    back_office,
    error_page,
    free_text,
    message,
    read_form,
    staff_page,
)
from gateway.core.errors import HTTP_STATUS, BillingError
from gateway.corrections.schemas import CorrectionRead
from gateway.corrections.wiring import correction_service
from gateway.i18n import N_, gettext, translate
from gateway.staff.login import StaffLogin
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import Settings

PATH = "/staff/corrections"
TITLE = N_("Corrections")
DECIDERS = frozenset({Role.TEAM_LEAD, Role.ADMIN})
WRONG_ROLE = N_("The Corrections queue is for team leads and admins.")
# Whoever may file a correction reads its page (a specialist follows what they filed). Named: a
# role added later (operations) reads none.
READERS = frozenset({Role.SPECIALIST, Role.TEAM_LEAD, Role.ADMIN})
NOT_A_READER = N_("A correction's page is for specialists, team leads and admins.")
DONE = {
    "approved": N_("Approved: the correction runs at the provider now."),
    "refused": N_("Refused: nothing runs; the reason is kept with the correction."),
    "retryd": N_("Retried: the correction runs again from the step that stopped it."),
    "settled": N_("Settled by hand: the correction goes on from the next step."),
}
DECISIONS = ("approve", "refuse", "retry", "settle")
RECENT = 20


def _context(settings: Settings, staff: StaffMember, **extra: Any) -> dict[str, Any]:
    return {
        "sandbox": settings.sandbox,
        "staff": staff,
        "back": back_office(staff),
        "can_decide": staff.role in DECIDERS,
        **view_helpers(),
        **extra,
    }


async def _queue(
    settings: Settings,
    staff: StaffMember,
    *,
    error: BillingError | None = None,
    notice: str | None = None,
) -> Template:
    service = correction_service()
    waiting = (await service.list(status="awaiting_approval", limit=200)).items
    latest = (await service.list(limit=200)).items
    decided = [item for item in latest if item.approval.decided_at is not None]
    decided.sort(key=lambda item: item.approval.decided_at or item.updated_at, reverse=True)
    return Template(
        template_name="corrections.html",
        context=_context(
            settings,
            staff,
            waiting=sorted(waiting, key=lambda item: item.created_at),
            decided=decided[:RECENT],
            error=translate(error.detail) if error else None,
            notice=gettext(notice) if notice else None,
        ),
        status_code=HTTP_STATUS[error.code] if error else 200,
        headers=NO_STORE,
    )


async def _decide(
    staff: StaffMember, correction_id: uuid.UUID, decision: str, form: dict[str, str]
) -> CorrectionRead:
    service = correction_service()
    if decision == "approve":
        return await service.approve(correction_id, staff, form.get("payload_hash", ""))
    if decision == "retry":
        return await service.retry(correction_id, staff)
    if decision == "settle":
        reason = free_text(form, "reason", N_("what was done by hand"), required=True)
        reference = free_text(form, "provider_reference", N_("provider reference"), required=False)
        return await service.settle_by_hand(correction_id, staff, reason, reference or None)
    reason = free_text(form, "reason", N_("reason for refusing"), required=True)
    return await service.refuse(correction_id, staff, reason)


class CorrectionsPageController(Controller):
    path = PATH
    include_in_schema = False
    exception_handlers = {Exception: error_page}

    @get("/")
    async def queue(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        done: FromQuery[str | None] = None,
    ) -> Template | Redirect:
        staff = await staff_page(request, login, DECIDERS, lambda: message(TITLE, WRONG_ROLE, 403))
        return await _queue(settings, staff, notice=DONE.get(done or ""))

    @get("/{correction_id:uuid}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        correction_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
    ) -> Template | Redirect:
        staff = await staff_page(request, login, READERS, lambda: message(TITLE, NOT_A_READER, 403))
        try:
            correction = await correction_service().read(correction_id)
        except BillingError as error:
            return message(TITLE, error.detail, HTTP_STATUS[error.code])
        return Template(
            template_name="correction.html",
            context=_context(
                settings, staff, item=correction, refreshing=correction.status in LIVE
            ),
            headers=NO_STORE,
        )

    @post("/{correction_id:uuid}/{decision:str}", status_code=303)
    async def decide(
        self,
        request: Request[Any, Any, Any],
        correction_id: FromPath[uuid.UUID],
        decision: FromPath[str],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
    ) -> Template | Redirect:
        """Approve, refuse, retry or settle by hand: the one dispatcher of the forms."""
        staff = await staff_page(request, login, DECIDERS, lambda: message(TITLE, WRONG_ROLE, 403))
        if decision not in DECISIONS:
            return message(TITLE, N_("There is no such decision on a correction."), 404)
        form = await read_form(request)
        try:
            await _decide(staff, correction_id, decision, form)
        except BillingError as refusal:
            return await _queue(settings, staff, error=refusal)
        done = "settled" if decision == "settle" else f"{decision}d"
        return Redirect(f"{PATH}?done={done}", status_code=303)
