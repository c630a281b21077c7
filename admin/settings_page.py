"""A read-only view of the running configuration for admins. Secrets are never shown: they are
reported only as set or not set."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from admin.sign_in import SESSION_COOKIE
from gateway.i18n import gettext
from gateway.staff.login import StaffLogin
from gateway.staff.roles import Role
from settings import Settings

SECRET_FIELDS = frozenset(
    {
        "encryption_keys",
        "hash_key",
        "database_url",
        "migration_database_url",
        "zuora_password",
        "zuora_client_secret",
        "stripe_api_key",
        "stripe_webhook_secrets",
        "zuora_callout_secrets",
        "zuora_callout_password",
        "audit_signing_key",
        "audit_checkpoint_sink",  # a URL may carry credentials
        "limits_storage_uri",  # a Redis URL may carry a password
    }
)


def visible_settings(settings: NamedDependency[Settings]) -> list[tuple[str, str]]:
    rows = []
    for name in type(settings).model_fields:
        variable = "DATABASE_URL" if name == "database_url" else f"BG_{name.upper()}"
        value = getattr(settings, name)
        if name in SECRET_FIELDS:
            shown = gettext("set") if value else gettext("not set")
        else:
            shown = str(value)
        rows.append((variable, shown))
    return rows


@get("/staff/settings", include_in_schema=False)
async def settings_page(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    login: NamedDependency[StaffLogin],
) -> Template | Redirect:
    token = request.cookies.get(SESSION_COOKIE)
    staff = await login.resolve_session(token) if token else None
    if staff is None:
        return Redirect("/staff/login")
    if staff.role is not Role.ADMIN:
        return Template(
            template_name="forbidden.html", status_code=403, context={"sandbox": settings.sandbox}
        )
    return Template(
        template_name="settings.html",
        context={"sandbox": settings.sandbox, "rows": visible_settings(settings)},
        headers={"Cache-Control": "no-store"},
    )
