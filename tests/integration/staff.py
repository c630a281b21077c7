"""Signing staff in over HTTP, the way a browser does: sign-in page, password, authenticator."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyotp
from litestar import Litestar

from audit.entry import SYSTEM
from gateway.staff.roles import Role
from gateway.staff.service import create_staff

PASSWORD = "correct horse battery staple"
MOUNT = {
    Role.SPECIALIST: "specialist",
    Role.TEAM_LEAD: "lead",
    Role.ADMIN: "admin",
    Role.OPERATIONS: "operations",
}


def browser(app: Litestar | str) -> httpx.AsyncClient:
    """A client with its own cookie jar, like a separate browser: of the in-process app, or of
    a live server at this base URL."""
    if isinstance(app, str):
        return httpx.AsyncClient(base_url=app)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


def csrf_field(page: httpx.Response) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def submit_password(
    client: httpx.AsyncClient, username: str, password: str
) -> httpx.Response:
    page = await client.get("/staff/login")
    return await client.post(
        "/staff/login",
        data={"_csrf_token": csrf_field(page), "username": username, "password": password},
    )


async def submit_code(client: httpx.AsyncClient, code: str) -> httpx.Response:
    page = await client.get("/staff/code")
    return await client.post("/staff/code", data={"_csrf_token": csrf_field(page), "code": code})


@dataclass
class Staff:
    client: httpx.AsyncClient
    username: str
    role: Role
    secret: str
    recovery_codes: list[str] = field(default_factory=list)

    @property
    def mount(self) -> str:
        return MOUNT[self.role]

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params)

    async def form(
        self, slug: str, data: dict[str, Any], mount: str | None = None
    ) -> httpx.Response:
        mount = mount or self.mount
        if "csrftoken" not in self.client.cookies:  # piccolo-admin sets it on any response
            await self.client.get(f"/{mount}/api/user/")
        return await self.client.post(
            f"/{mount}/api/forms/{slug}/",
            json=data,
            headers={"X-CSRFToken": self.client.cookies["csrftoken"]},
        )

    async def rows(self, table: str, **params: Any) -> list[dict[str, Any]]:
        params = {"__readable": "true", **params}  # as the browser app asks
        response = await self.get(f"/{self.mount}/api/tables/{table}/", **params)
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()["rows"]
        return rows


async def enrol(app: Litestar | str, username: str, role: Role) -> Staff:
    """Create the account, then sign in for the first time: scan (read) the key, confirm a
    code, keep the recovery codes."""
    await create_staff(username, f"{username}@example.com", role, SYSTEM, password=PASSWORD)
    client = browser(app)
    answer = await submit_password(client, username, PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/staff/code"
    page = await client.get("/staff/code")
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text)
    assert secret, page.text
    signed_in = await submit_code(client, pyotp.TOTP(secret.group(1)).now())
    assert signed_in.status_code == 200, signed_in.text
    codes = re.findall(r"<li>([0-9a-f]{6}-[0-9a-f]{6})</li>", signed_in.text)
    return Staff(client, username, role, secret.group(1), codes)
