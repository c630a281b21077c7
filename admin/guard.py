"""The gate in front of each piccolo-admin mount: who may enter, and what they may see.

piccolo-admin trusts any valid session cookie on every mount and has no per-user read hooks, so
this guard does the real work, on the server:
- only a live, MFA-verified session of the mount's role gets past (others: 401 or 403);
- piccolo-admin's own login, MFA set-up and password change are switched off (they would
  bypass MFA enrolment and the database lockout); sign-in happens under /staff;
- every read runs in a read-only transaction that names the staff member to PostgreSQL, and
  the screens are views that filter on that name: a specialist's queue cannot return another
  specialist's row through any endpoint, `/ids/` and CSV export included.
"""

from __future__ import annotations

import contextvars
import hmac
import json
from collections.abc import Awaitable, Callable, Sequence
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import piccolo_admin
from piccolo.table import Table
from piccolo_admin.endpoints import FormConfig

from admin import piccolo_json
from admin.form_choices import FORM_SELECTS, live_choices
from admin.piccolo_chrome import bundle_path, localised_index, patched_bundle
from admin.work_links import OPEN_ON_WORK_PAGE
from gateway.core.db.connection import engine, fetch
from gateway.core.log import get_logger
from gateway.i18n import current_language, current_time_zone
from gateway.staff.login import StaffLogin
from gateway.staff.member import StaffMember
from gateway.staff.roles import MOUNT_OF_ROLE, Role
from settings import Settings

# Plain ASGI: the guard sits between Litestar and a Starlette app and uses neither's types.
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

current_staff: contextvars.ContextVar[StaffMember | None] = contextvars.ContextVar(
    "current_staff", default=None
)

_log = get_logger("back_office")

SIGN_IN = "/staff/login"
_BLOCKED = (
    "/api/mfa-setup",
    "/api/change-password",
    "/api/docs",
    "/api/openapi.json",
    "/public/docs",
    "/public/openapi.json",
)
_PUBLIC = ("/assets/", "/public/meta/", "/public/translations/")
_NO_STORE = [(b"cache-control", b"no-store")]
_SCRIPT = [
    (b"content-type", b"application/javascript; charset=utf-8"),
    (b"cache-control", b"public, max-age=3600"),
]
# When the SPA's session ends it shows its own login page, which is switched off: send the
# browser to ours instead.
_BACK_TO_SIGN_IN = (
    "<script>(function(){function check(){if(location.hash.indexOf('#/login')===0)"
    f"{{location.replace('{SIGN_IN}');}}}}check();setInterval(check,300);}})();</script>"
)


# Every table is read-only (changes go through the forms), so its add, save and delete buttons
# would only ever answer "read-only": hide them.
_READ_ONLY_STYLE = (
    '<style>[data-uitest=create_button],[data-uitest=save_button],a.button[href$="/add/"],'
    "[data-uitest=delete_row_button]{display:none!important}</style>"
)


def _index_html() -> str:
    index = Path(piccolo_admin.__file__).parent / "dist" / "index.html"
    extra = _BACK_TO_SIGN_IN + _READ_ONLY_STYLE + OPEN_ON_WORK_PAGE + FORM_SELECTS
    return index.read_text().replace("</head>", f"{extra}</head>")


def _rewritten(body: bytes, rewrite: Callable[[Any], Any]) -> bytes:
    try:
        parsed = json.loads(body)
    except ValueError:  # not JSON after all: sent as it came
        return body
    try:
        return json.dumps(rewrite(parsed), ensure_ascii=False).encode()
    except Exception:  # a bug in a translation never costs the reader the answer itself
        _log.exception("piccolo-admin answer sent untranslated")
        return body


def _rewriting(send: Send, rewrite: Callable[[Any], Any]) -> Send:
    """Hold piccolo-admin's JSON answer, say it in the reader's language, then send it."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def rewriting_send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body" or not start:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        if any(k.lower() == b"content-type" and b"json" in v for k, v in headers):
            body = _rewritten(body, rewrite)
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return rewriting_send


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope["headers"]:
        if name == b"cookie":
            jar.load(value.decode("latin-1"))
    return {key: morsel.value for key, morsel in jar.items()}


async def _respond(
    send: Send, status: int, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                *([] if any(k == b"cache-control" for k, _ in headers or ()) else _NO_STORE),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _json(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await _respond(send, status, body, [(b"content-type", b"application/json")])


async def _redirect(
    send: Send, location: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    await _respond(send, 303, headers=[(b"location", location.encode()), *(extra or [])])


def _secure_cookies(send: Send) -> Send:
    """piccolo-admin sets its CSRF cookie without `Secure`; outside sandbox every cookie has it."""

    async def secure_send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [
                (name, value + b"; Secure")
                if name.lower() == b"set-cookie" and b"secure" not in value.lower()
                else (name, value)
                for name, value in message["headers"]
            ]
        await send(message)

    return secure_send


class RoleGuard:
    def __init__(
        self,
        app: ASGIApp,
        role: Role,
        login: StaffLogin,
        settings: Settings,
        tables: Sequence[type[Table]] = (),
        forms: Sequence[FormConfig] = (),
    ) -> None:
        self.app = app
        self.role = role
        self.mount = MOUNT_OF_ROLE[role]
        self.login = login
        self.settings = settings
        self.index = _index_html()
        self.tables = {table._meta.tablename: table for table in tables}
        self.forms = {form.slug: form for form in forms}
        self.bundle = "/assets/" + bundle_path().name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # piccolo-admin has none; nothing gets past unchecked
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.settings.sandbox:
            send = _secure_cookies(send)
        path = scope["path"]
        if path.startswith(self.mount + "/") or path == self.mount:
            path = path[len(self.mount) :] or "/"
        method = scope["method"]
        if path == self.bundle:
            await _respond(send, 200, b"" if method == "HEAD" else patched_bundle(), _SCRIPT)
            return
        if path == "/public/meta/":
            send = _rewriting(send, self._meta)
        if path.startswith(_PUBLIC):
            await self.app(scope, receive, send)
            return
        if path.startswith("/public/login/"):
            if method in ("GET", "HEAD"):
                await _redirect(send, SIGN_IN)
            else:
                await _json(
                    send, 403, f"Sign in at {SIGN_IN}: it asks for your authenticator code."
                )
            return
        if path.startswith(_BLOCKED):
            await _json(send, 403, "Not available here: ask an admin to reset a password or MFA.")
            return
        cookies = _cookies(scope)
        staff = (
            await self.login.resolve_session(cookies.get("id", "")) if cookies.get("id") else None
        )
        if path.startswith("/public/logout/"):
            await self._logout(send, cookies, scope)
            return
        if path == "/":
            await self._index(send, staff, method)
            return
        if staff is None:
            await _json(send, 401, "Your session has ended; sign in again.")
            return
        if staff.role is not self.role:
            await _json(send, 403, f"This back office is for the {self.role.value} role.")
            return
        token = current_staff.set(staff)
        try:
            rewrite = await self._translation(path, method, staff)
            if rewrite is not None:
                send = _rewriting(send, rewrite)
            if method in ("GET", "HEAD"):
                await self._read(scope, receive, send, staff)
            else:
                await self.app(scope, receive, send)
        finally:
            current_staff.reset(token)

    def _meta(self, body: Any) -> Any:
        if isinstance(body, dict):
            body["site_name"] = piccolo_json.site_name(self.role, self.settings.sandbox)
        return body

    async def _translation(
        self, path: str, method: str, staff: StaffMember
    ) -> Callable[[Any], Any] | None:
        """How piccolo-admin's answer to this request is said in the reader's language."""
        if method == "POST":
            found = piccolo_json.FORM_POST.match(path)
            form = self.forms.get(found.group(1)) if found else None
            if form is None:
                return None
            titles = piccolo_json.field_titles(form)
            return lambda body: piccolo_json.form_refusal(body, titles)
        if method != "GET":
            return None
        if found := piccolo_json.TABLE_SCHEMA.match(path):
            table = self.tables.get(found.group(1))
            return lambda body: piccolo_json.table_schema(table, body)
        if piccolo_json.TABLE_COUNT.match(path):
            return piccolo_json.counted()
        if found := piccolo_json.TABLE_ROWS.match(path):
            table = self.tables.get(found.group(1))
            return lambda body: piccolo_json.rows(table, body)
        if found := piccolo_json.FORM_SCHEMA.match(path):
            live = await live_choices(found.group(1), staff)
            return lambda body: piccolo_json.form_schema(body, live)
        if path in ("/api/forms/", "/api/forms/grouped/"):
            return piccolo_json.forms
        if path == "/api/links/":
            return piccolo_json.links
        return None

    async def _read(self, scope: Scope, receive: Receive, send: Send, staff: StaffMember) -> None:
        async with engine().transaction():
            await engine().run_ddl("SET TRANSACTION READ ONLY")
            await fetch(
                "SELECT set_config('bg.staff_user_id', $1, true),"
                " set_config('bg.stale_hours', $2, true), set_config('bg.expire_days', $3, true)",
                str(staff.id),
                str(self.settings.triage_stale_hours),
                str(self.settings.triage_expire_days),
            )
            await self.app(scope, receive, send)

    async def _index(self, send: Send, staff: StaffMember | None, method: str) -> None:
        if staff is None:
            await _redirect(send, SIGN_IN)
        elif staff.role is not self.role:
            await _redirect(send, f"{MOUNT_OF_ROLE[staff.role]}/")
        else:
            headers = [(b"content-type", b"text/html; charset=utf-8")]
            page = localised_index(self.index, current_language.get(), current_time_zone.get())
            await _respond(send, 200, b"" if method == "HEAD" else page, headers)

    async def _logout(self, send: Send, cookies: dict[str, str], scope: Scope) -> None:
        # The same double-submit check piccolo-admin applies to its own POSTs.
        sent = dict(scope["headers"]).get(b"x-csrftoken", b"").decode()
        expected = cookies.get("csrftoken", "")
        if not expected or not hmac.compare_digest(sent, expected):
            await _json(send, 403, "The sign-out form expired; reload the page and try again.")
            return
        if token := cookies.get("id"):
            await self.login.end_session(token)
        secure = "" if self.settings.sandbox else "; Secure"
        clear = f"id=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict{secure}".encode()
        await _respond(send, 200, b"{}", [(b"set-cookie", clear)])
