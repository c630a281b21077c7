"""Each staff member's preferences (`/staff/preferences`): the back office's language and time
zone. Saved on the account (so the next sign-in, on any browser, brings them back) and written
to this browser's cookies, which the locale middleware reads on every request."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from admin.page_kit import NO_STORE, back_office, error_page, read_form, staff_page
from admin.sign_in import preference_cookies
from gateway.core.errors import HTTP_STATUS, BillingError
from gateway.i18n import LANGUAGES, translate
from gateway.i18n.negotiation import time_zones
from gateway.staff.login import StaffLogin
from gateway.staff.member import StaffMember
from gateway.staff.preferences import save_preferences
from settings import Settings

PATH = "/staff/preferences"


def _page(
    settings: Settings,
    staff: StaffMember,
    *,
    language: str | None,
    time_zone: str | None,
    saved: bool = False,
    error: BillingError | None = None,
) -> Template:
    return Template(
        template_name="preferences.html",
        context={
            "sandbox": settings.sandbox,
            "staff": staff,
            "back": back_office(staff),
            "languages": LANGUAGES,  # each named in itself
            "zones": time_zones(),
            "default_zone": settings.staff_time_zone,
            "chosen_language": language or "",
            "chosen_zone": time_zone or "",
            "saved": saved,
            "error": translate(error.detail) if error else None,
        },
        status_code=HTTP_STATUS[error.code] if error else 200,
        headers=NO_STORE,
    )


class PreferencesPageController(Controller):
    path = PATH
    include_in_schema = False
    exception_handlers = {Exception: error_page}  # a database outage is a page, not JSON

    @get("/")
    async def preferences(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
    ) -> Template | Redirect:
        staff = await staff_page(request, login)
        return _page(
            settings,
            staff,
            language=staff.language,
            time_zone=staff.time_zone,
            saved=request.query_params.get("saved") == "1",
        )

    @post("/", status_code=303)
    async def save(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
    ) -> Template | Redirect:
        staff = await staff_page(request, login)
        form = await read_form(request)
        language, time_zone = form.get("language") or None, form.get("time_zone") or None
        try:
            saved = await save_preferences(staff, language, time_zone)
        except BillingError as refusal:
            return _page(
                settings, staff, language=staff.language, time_zone=staff.time_zone, error=refusal
            )
        # The next page is already in the new language: the cookies come with the redirect.
        return Redirect(
            f"{PATH}?saved=1", status_code=303, cookies=preference_cookies(settings, saved)
        )
