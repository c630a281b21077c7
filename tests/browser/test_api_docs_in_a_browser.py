"""/schema in a browser that may reach nothing but the gateway: the docs UI loads from the
gateway's own files and shows every operation, with the examples the document carries."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.async_api import Page, Request, Route, expect

from tests.browser.conftest import Shot
from tests.database import LiveServer

_LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


async def _offline(page: Page) -> list[str]:
    """Abort every request that leaves the machine; the list says what was tried."""
    refused: list[str] = []

    async def only_loopback(route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname in _LOOPBACK or request.url.startswith("data:"):
            await route.continue_()
        else:
            refused.append(request.url)
            await route.abort("internetdisconnected")

    await page.route("**/*", only_loopback)
    return refused


async def test_the_docs_work_with_no_network(
    page: Page, live_server: LiveServer, screenshot: Shot
) -> None:
    refused = await _offline(page)
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on(
        "console", lambda message: failed.append(message.text) if message.type == "error" else None
    )

    response = await page.goto(f"{live_server.base_url}/schema")
    assert response is not None and response.ok
    assert "script-src 'self'" in (await response.all_headers())["content-security-policy"]
    # Swagger UI rendered the document: its title and the operations, by their ids' routes
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("billing-gateway")
    create = page.locator("#operations-change_requests-createChangeRequest")
    await expect(create).to_be_visible()
    await expect(page.locator("#operations-problems-getProblemType")).to_be_visible()
    assert await page.locator(".opblock").count() >= 30

    # Opening an operation shows its fixed example body, masked IBAN and all
    await create.locator(".opblock-summary").click()
    await expect(create.locator(".body-param__example, .example").first).to_contain_text(
        "DE** **** **** **** **30 00"
    )
    await screenshot(page, "api-docs-offline")
    assert refused == [], f"the docs tried to reach {refused}"
    assert failed == [], failed


async def test_the_swagger_path_serves_the_same_offline_docs(
    page: Page, live_server: LiveServer
) -> None:
    refused = await _offline(page)
    await page.goto(f"{live_server.base_url}/schema/swagger")
    await expect(page.locator("#operations-change_requests-getChangeRequest")).to_be_visible()
    assert refused == []
