"""A specialist who reads the back office in Arabic works a demo request from her queue to
applied: the work page is right to left, every heading, button and status in Arabic, the masked
IBAN and the ticket left to right inside it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from gateway.change_requests.states import Status
from gateway.i18n import use_language
from gateway.i18n.labels import label
from gateway.staff.roles import Role
from tests.browser.conftest import server_with_worker
from tests.browser.test_back_office_in_a_browser import new_account, sign_in_first_time, status_of
from tests.browser.test_work_page_in_a_browser import (
    APPLY_TIMEOUT_MS,
    claim_and_open_from_my_queue,
    file_demo_request,
)
from tests.database import LiveServer

SHOT = Path(os.environ.get("BG_SCREENSHOT_DIR", ".artifacts/screenshots")) / "work-ar.png"


@pytest.fixture(scope="module")
def working_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with server_with_worker(database_url, tmp_path_factory.mktemp("work-page-ar")) as server:
        yield server


async def test_a_specialist_works_a_request_in_arabic(
    page: Page, working_server: LiveServer
) -> None:
    server = working_server
    await new_account("salma", Role.SPECIALIST)
    request_id = await file_demo_request(server, "1001")

    await sign_in_first_time(page, server, "salma")
    # Her language, as the preferences page keeps it: the back office's language cookie.
    await page.context.add_cookies([{"name": "bg_lang", "value": "ar", "url": server.base_url}])
    await claim_and_open_from_my_queue(page, server, "zendesk #1001")
    await expect(page.locator("html")).to_have_attribute("lang", "ar")
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    with use_language("ar"):
        in_progress, applied = label(Status.IN_PROGRESS), label(Status.APPLIED)
    await expect(page.get_by_test_id("request-status")).to_have_text(in_progress)

    await page.get_by_test_id("refresh-checks").click()
    await expect(page.get_by_test_id("work-notice")).to_have_text(
        "أُعيدت قراءة الفحوص المسبقة من مزوّدي الخدمة."
    )
    await expect(page.get_by_test_id("refresh-checks")).to_have_text("تحديث الفحوص")
    await expect(page.get_by_test_id("apply")).to_have_text("تطبيق")
    # The masked IBAN stays left to right, isolated inside the Arabic sentence around it.
    masked = page.locator("bdi", has_text=re.compile(r"^FR\*+\d{4}$")).first
    await expect(masked).to_be_visible()
    shown = await page.locator("main").inner_text()
    for english in ("Pre-checks", "Refresh checks", "The request", "Steps", "Apply reads"):
        assert english not in shown, english

    await page.get_by_test_id("apply").click()
    status = page.get_by_test_id("request-status")
    await expect(status).to_have_attribute("data-status", "applied", timeout=APPLY_TIMEOUT_MS)
    await expect(status).to_have_text(applied)
    steps = page.get_by_test_id("step")
    assert await steps.count() >= 4
    for index in range(await steps.count()):
        await expect(steps.nth(index)).to_have_attribute("data-status", "succeeded")
        await expect(steps.nth(index)).to_contain_text("تمّ")
    assert await status_of(request_id) == "applied"
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SHOT, full_page=True)
    assert "FR7630006000011234567890189" not in (await page.content()).replace(" ", "")
