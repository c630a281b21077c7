"""Notifications to support tools, in the back office (`/staff/notifications`): the endpoints
(disabled ones first, with their reason), one endpoint's deliveries, one delivery's attempts.

Who does what:
- admins register endpoints (the secret is shown once, on the answer to the form), disable and
  enable them and rotate their secret (shown once too): endpoints are integrations, like the
  API keys admins issue;
- team leads read endpoints, deliveries and attempts and resend a delivery a help desk missed
  (same event id and body);
- specialists do not open these pages.

Every change goes through NotificationService (checked and audited there). Register, rotate and
resend carry a one-time form token (admin.form_tokens): a double click or a reload that posts
again does it once; a second send of the register or rotate form never shows the secret again.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from admin.form_tokens import file_once, form_token
from admin.notification_view import PATTERNS, catalogue, disabled_first, view_helpers
from admin.page_kit import NO_STORE, back_office, error_page, free_text, message, staff_page
from gateway.api_keys.service import live_clients
from gateway.core.errors import HTTP_STATUS, BillingError, ErrorCode
from gateway.i18n import LANGUAGES, N_, Message, gettext, translate
from gateway.notifications.service import ALL
from gateway.notifications.wiring import notification_service
from gateway.staff.login import StaffLogin
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import Settings

PATH = "/staff/notifications"
TITLE = N_("Notifications")
READERS = frozenset({Role.TEAM_LEAD, Role.ADMIN})
WRONG_ROLE = N_("The notification pages are for team leads and admins.")
ADMIN_ONLY = N_("Only an admin registers, disables, enables or rotates an endpoint.")
ENDPOINT_ACTIONS = ("disable", "enable", "rotate-secret")
DONE = {
    "disabled": N_("Disabled: nothing is sent to this endpoint until it is enabled again."),
    "enabled": N_("Enabled: deliveries waiting for it are sent again, oldest first."),
    "registered_before": N_(
        "This form registered the endpoint already; its secret was shown then, once. "
        "Rotate the secret if it was not kept."
    ),
    "rotated_before": N_(
        "This form rotated the secret already; the new secret was shown then, once. "
        "Rotate it again if it was not kept."
    ),
    "resent": N_("Resent: the same event, with the same id, is on its way to the endpoint again."),
}
BUSY = Message("This form was sent already and is still being done; reload the page in a moment.")
DELIVERIES_SHOWN = 50
ENDPOINTS_SHOWN = 200


def _context(settings: Settings, staff: StaffMember, **extra: Any) -> dict[str, Any]:
    return {
        "sandbox": settings.sandbox,
        "staff": staff,
        "back": back_office(staff),
        "is_admin": staff.role is Role.ADMIN,
        "new_token": lambda: str(uuid.uuid4()),
        **view_helpers(),
        **extra,
    }


async def _list_page(
    settings: Settings,
    staff: StaffMember,
    *,
    error: BillingError | None = None,
    notice: str | None = None,
    typed: dict[str, Any] | None = None,
) -> Template:
    endpoints = await notification_service().list_endpoints(ALL, limit=ENDPOINTS_SHOWN)
    disabled, enabled = disabled_first(endpoints)
    return Template(
        template_name="notifications.html",
        context=_context(
            settings,
            staff,
            disabled=disabled,
            enabled=enabled,
            clients=await live_clients() if staff.role is Role.ADMIN else [],
            patterns=PATTERNS,
            catalogue=catalogue(),
            typed=typed or {"events": []},
            languages=LANGUAGES,
            error=translate(error.detail) if error else None,
            notice=gettext(notice) if notice else None,
        ),
        status_code=HTTP_STATUS[error.code] if error else 200,
        headers=NO_STORE,
    )


async def _endpoint_page(
    settings: Settings,
    staff: StaffMember,
    endpoint_id: uuid.UUID,
    *,
    status: str | None = None,
    error: BillingError | None = None,
    notice: str | None = None,
) -> Template:
    service = notification_service()
    try:
        endpoint = await service.get_endpoint(endpoint_id, ALL)
    except BillingError as refusal:
        return message(TITLE, refusal.detail, HTTP_STATUS[refusal.code])
    chosen = status if status in ("pending", "delivered", "failed") else None
    deliveries = await service.list_deliveries(
        endpoint_id=endpoint_id, status=chosen, limit=DELIVERIES_SHOWN
    )
    return Template(
        template_name="notification_endpoint.html",
        context=_context(
            settings,
            staff,
            endpoint=endpoint,
            deliveries=deliveries,
            status=chosen,
            shown=DELIVERIES_SHOWN,
            error=translate(error.detail) if error else None,
            notice=gettext(notice) if notice else None,
        ),
        status_code=HTTP_STATUS[error.code] if error else 200,
        headers=NO_STORE,
    )


def _secret_page(
    settings: Settings, staff: StaffMember, endpoint: Any, secret: str, *, rotated: bool
) -> Template:
    return Template(
        template_name="notification_secret.html",
        context=_context(settings, staff, endpoint=endpoint, secret=secret, rotated=rotated),
        headers=NO_STORE,
    )


async def _typed(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The register form: each field's value, the chosen events as a list."""
    form = await request.form()
    typed: dict[str, Any] = {key: str(form.get(key) or "").strip() for key in form}
    typed["events"] = [str(value).strip() for value in form.getall("events", [])]
    return typed


async def _who(request: Request[Any, Any, Any], login: StaffLogin) -> StaffMember:
    """The signed-in lead or admin."""
    return await staff_page(request, login, READERS, lambda: message(TITLE, WRONG_ROLE, 403))


class NotificationsPageController(Controller):
    path = PATH
    include_in_schema = False
    exception_handlers = {Exception: error_page}

    @get("/")
    async def endpoints(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
    ) -> Template | Redirect:
        staff = await _who(request, login)
        return await _list_page(settings, staff)

    @post("/register", status_code=200)
    async def register(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
    ) -> Template | Redirect:
        staff = await _who(request, login)
        if staff.role is not Role.ADMIN:
            return message(TITLE, ADMIN_ONLY, 403)
        typed = await _typed(request)
        service = notification_service()
        made: dict[str, Any] = {}

        async def register() -> uuid.UUID:
            description = free_text(typed, "description", N_("description"))
            if not typed.get("url"):
                raise BillingError(
                    ErrorCode.VALIDATION_FAILED,
                    Message(
                        "Give the endpoint's URL (https://...): the address the support tool "
                        "receives notifications at."
                    ),
                )
            if not typed["events"]:
                raise BillingError(
                    ErrorCode.VALIDATION_FAILED,
                    Message(
                        "Choose at least one event (or a pattern such as every change-request "
                        "event) for the endpoint to receive."
                    ),
                )
            endpoint, secret = await service.register(
                typed["url"],
                typed["events"],
                description,
                typed.get("client") or None,
                staff.actor,
                language=typed.get("language") or "en",
            )
            made.update(endpoint=endpoint, secret=secret)
            return uuid.UUID(str(endpoint["id"]))

        try:
            token = form_token(typed.get("form_token", ""))
            endpoint_id = await file_once(
                staff, token, "notifications.register", register, busy=BUSY
            )
        except BillingError as refusal:
            return await _list_page(settings, staff, error=refusal, typed=typed)
        if not made:  # an earlier send of this form registered it: its secret is not shown again
            return Redirect(f"{PATH}/{endpoint_id}?done=registered_before", status_code=303)
        return _secret_page(settings, staff, made["endpoint"], made["secret"], rotated=False)

    @get("/{endpoint_id:uuid}")
    async def endpoint(
        self,
        request: Request[Any, Any, Any],
        endpoint_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        status: FromQuery[str | None] = None,
        done: FromQuery[str | None] = None,
    ) -> Template | Redirect:
        staff = await _who(request, login)
        notice = DONE.get(done or "")
        return await _endpoint_page(settings, staff, endpoint_id, status=status, notice=notice)

    @post("/{endpoint_id:uuid}/{action:str}", status_code=303)
    async def act(
        self,
        request: Request[Any, Any, Any],
        endpoint_id: FromPath[uuid.UUID],
        action: FromPath[str],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
    ) -> Template | Redirect:
        """Disable, enable or rotate the secret: the one dispatcher of an endpoint's forms."""
        staff = await _who(request, login)
        if action not in ENDPOINT_ACTIONS:
            return message(TITLE, N_("There is no such action on a notification endpoint."), 404)
        if staff.role is not Role.ADMIN:
            return message(TITLE, ADMIN_ONLY, 403)
        form = await _typed(request)
        service = notification_service()
        page = f"{PATH}/{endpoint_id}"
        try:
            if action == "disable":
                reason = free_text(form, "reason", N_("reason for disabling"))
                await service.disable(endpoint_id, reason, staff.actor)
                return Redirect(f"{page}?done=disabled", status_code=303)
            if action == "enable":
                await service.enable(endpoint_id, staff.actor)
                return Redirect(f"{page}?done=enabled", status_code=303)
            rotated: list[str] = []

            async def rotate() -> uuid.UUID:
                rotated.append(await service.rotate_secret(endpoint_id, staff.actor))
                return endpoint_id

            token = form_token(form.get("form_token", ""))
            await file_once(staff, token, "notifications.rotate", rotate, busy=BUSY)
        except BillingError as refusal:
            return await _endpoint_page(settings, staff, endpoint_id, error=refusal)
        if not rotated:
            return Redirect(f"{page}?done=rotated_before", status_code=303)
        endpoint = await service.get_endpoint(endpoint_id, ALL)
        return _secret_page(settings, staff, endpoint, rotated[0], rotated=True)

    @get("/deliveries/{delivery_id:uuid}")
    async def delivery(
        self,
        request: Request[Any, Any, Any],
        delivery_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        done: FromQuery[str | None] = None,
    ) -> Template | Redirect:
        staff = await _who(request, login)
        return await _delivery_page(settings, staff, delivery_id, notice=DONE.get(done or ""))

    @post("/deliveries/{delivery_id:uuid}/resend", status_code=303)
    async def resend(
        self,
        request: Request[Any, Any, Any],
        delivery_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
    ) -> Template | Redirect:
        staff = await _who(request, login)
        form = await _typed(request)
        service = notification_service()

        async def resend() -> uuid.UUID:
            await service.resend(delivery_id, staff.actor)
            return delivery_id

        try:
            token = form_token(form.get("form_token", ""))
            await file_once(staff, token, "notifications.resend", resend, busy=BUSY)
        except BillingError as refusal:
            return await _delivery_page(settings, staff, delivery_id, error=refusal)
        return Redirect(f"{PATH}/deliveries/{delivery_id}?done=resent", status_code=303)


async def _delivery_page(
    settings: Settings,
    staff: StaffMember,
    delivery_id: uuid.UUID,
    *,
    error: BillingError | None = None,
    notice: str | None = None,
) -> Template:
    try:
        delivery = await notification_service().get_delivery(delivery_id)
    except BillingError as refusal:
        return message(TITLE, refusal.detail, HTTP_STATUS[refusal.code])
    return Template(
        template_name="notification_delivery.html",
        context=_context(
            settings,
            staff,
            delivery=delivery,
            error=translate(error.detail) if error else None,
            notice=gettext(notice) if notice else None,
        ),
        status_code=HTTP_STATUS[error.code] if error else 200,
        headers=NO_STORE,
    )
