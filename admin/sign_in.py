"""The back office's sign-in pages under /staff: password, TOTP (or enrolment), sign-out.

piccolo-admin's own login cannot require MFA enrolment or lock an account in the database, so it
is switched off on every mount (see `admin.guard`) and every session starts here.
"""

from __future__ import annotations

from typing import Annotated, Any

import segno
from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import CookieParameter, URLEncodedBody
from litestar.response import Redirect, Template

from admin.throttle import SignInThrottle
from gateway.edge.failure_limit import TooManyFailuresError
from gateway.i18n import Message
from gateway.i18n.middleware import LANGUAGE_COOKIE, TIME_ZONE_COOKIE
from gateway.staff.login import EnrolmentNeeded, Refused, SignedIn, StaffLogin
from gateway.staff.member import StaffMember
from gateway.staff.roles import MOUNT_OF_ROLE
from settings import Settings

SESSION_COOKIE = "id"  # piccolo-api's name: piccolo-admin reads the same cookie
CHALLENGE_COOKIE = "bg_sign_in"
PREFERENCE_MAX_AGE = 365 * 24 * 3600  # how to talk to this browser: kept across sessions
PAGES = {"path": "/staff", "include_in_schema": False}
Form = URLEncodedBody[dict[str, str]]


def _cookie(settings: Settings, key: str, value: str, max_age: int, path: str = "/") -> Cookie:
    return Cookie(
        key=key,
        value=value,
        max_age=max_age,
        path=path,
        httponly=True,
        secure=not settings.sandbox,
        samesite="strict",
    )


def preference_cookies(settings: Settings, staff: StaffMember) -> list[Cookie]:
    """The staff member's language and time zone, for this browser (read by the locale
    middleware on every request, so none pays a database read for them); a preference that
    is not set deletes its cookie: the browser's language, the gateway's zone."""
    return [
        _cookie(settings, name, value or "", PREFERENCE_MAX_AGE if value else 0)
        for name, value in (
            (LANGUAGE_COOKIE, staff.language),
            (TIME_ZONE_COOKIE, staff.time_zone),
        )
    ]


def _page(
    name: str, settings: NamedDependency[Settings], status_code: int = 200, **context: Any
) -> Template:
    return Template(
        template_name=f"{name}.html",
        context={"sandbox": settings.sandbox, **context},
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def _enrolment_page(
    settings: Settings, step: EnrolmentNeeded, error: str | None = None
) -> Template:
    qr_code = segno.make(step.provisioning_uri, error="m").svg_inline(scale=5, dark="#111")
    return _page(
        "enrol",
        settings,
        status_code=401 if error else 200,
        qr_code=qr_code,
        secret=step.secret,
        error=error,
    )


TOO_MANY = Message("Too many sign-in attempts from this address; wait a minute and try again.")


def _address(request: Request[Any, Any, Any]) -> str:
    # The peer, or the client a trusted proxy names (uvicorn applies BG_TRUSTED_PROXIES).
    return request.client.host if request.client else "unknown"


def _too_many(name: str, settings: Settings, over: TooManyFailuresError) -> Template:
    page = _page(name, settings, status_code=429, error=TOO_MANY)
    page.headers["Retry-After"] = str(over.retry_after_seconds)
    return page


class SignInController(Controller):
    path = "/staff"
    include_in_schema = False

    @get("/")
    async def home(
        self, request: Request[Any, Any, Any], login: NamedDependency[StaffLogin]
    ) -> Redirect:
        token = request.cookies.get(SESSION_COOKIE)
        staff = await login.resolve_session(token) if token else None
        return Redirect(f"{MOUNT_OF_ROLE[staff.role]}/" if staff else "/staff/login")

    @get("/login")
    async def login_page(self, settings: NamedDependency[Settings]) -> Template:
        return _page("login", settings)

    @post("/login", status_code=303)
    async def check_password(
        self,
        request: Request[Any, Any, Any],
        data: Form,
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        throttle: NamedDependency[SignInThrottle],
    ) -> Template | Redirect:
        try:
            async with throttle.attempt(_address(request)) as attempt:
                username, password = data.get("username", ""), data.get("password", "")
                outcome = await login.check_password(username, password)
                attempt.failed = isinstance(outcome, Refused)
        except TooManyFailuresError as over:
            return _too_many("login", settings, over)
        if isinstance(outcome, Refused):
            return _page("login", settings, status_code=401, error=outcome.message)
        cookie = _cookie(settings, CHALLENGE_COOKIE, outcome.challenge, 300, path="/staff")
        return Redirect("/staff/code", status_code=303, cookies=[cookie])

    @get("/code")
    async def code_page(
        self,
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        challenge: Annotated[str | None, CookieParameter(name=CHALLENGE_COOKIE)] = None,
    ) -> Template | Redirect:
        step = await login.challenge_state(challenge) if challenge else None
        if step is None:
            return Redirect("/staff/login")
        if isinstance(step, EnrolmentNeeded):
            return _enrolment_page(settings, step)
        return _page("code", settings)

    @post("/code", status_code=303)
    async def check_code(
        self,
        request: Request[Any, Any, Any],
        throttle: NamedDependency[SignInThrottle],
        data: Form,
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        challenge: Annotated[str | None, CookieParameter(name=CHALLENGE_COOKIE)] = None,
    ) -> Template | Redirect:
        try:
            async with throttle.attempt(_address(request)) as attempt:
                step = await login.challenge_state(challenge) if challenge else None
                if challenge is None or step is None:
                    return Redirect("/staff/login", status_code=303)
                outcome = await login.check_code(challenge, data.get("code", ""))
                attempt.failed = isinstance(outcome, Refused)
        except TooManyFailuresError as over:
            return _too_many("code", settings, over)
        if isinstance(outcome, Refused):
            if isinstance(step, EnrolmentNeeded):
                return _enrolment_page(settings, step, outcome.message)
            return _page("code", settings, status_code=401, error=outcome.message)
        return self._signed_in(settings, outcome)

    @staticmethod
    def _signed_in(settings: Settings, signed_in: SignedIn) -> Template | Redirect:
        cookies = [
            _cookie(settings, SESSION_COOKIE, signed_in.session_token, signed_in.max_age_seconds),
            _cookie(settings, CHALLENGE_COOKIE, "", 0, path="/staff"),
            *preference_cookies(settings, signed_in.staff),
        ]
        target = f"{MOUNT_OF_ROLE[signed_in.staff.role]}/"
        if signed_in.recovery_codes:
            page = _page("recovery_codes", settings, codes=signed_in.recovery_codes, next=target)
            page.cookies = cookies
            return page
        return Redirect(target, status_code=303, cookies=cookies)

    @post("/logout", status_code=303)
    async def logout(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
    ) -> Redirect:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await login.end_session(token)
        # The language and time zone cookies stay: they say how to talk to this browser.
        return Redirect(
            "/staff/login", status_code=303, cookies=[_cookie(settings, SESSION_COOKIE, "", 0)]
        )
