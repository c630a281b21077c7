"""The back office in a real browser: Debian's Chromium driven by Playwright, against the real
server (`billing-gateway serve`) over loopback. Screenshots of each screen are saved by the run
(BG_SCREENSHOT_DIR, default .artifacts/screenshots); `make screenshots` copies them to docs/."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from unittest import mock

import pytest
from playwright.async_api import Browser, Page, async_playwright

if TYPE_CHECKING:
    from tests.database import LiveServer

SCREENSHOTS = Path(os.environ.get("BG_SCREENSHOT_DIR", ".artifacts/screenshots"))
# Without these, Chromium keeps trying to reach Google's hosts, which this network refuses.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(autouse=True)
async def empty_tables(clean: None) -> None:
    """Every browser test starts from empty tables."""


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    executable = _chromium()
    if executable is None:
        pytest.skip(
            "Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


@pytest.fixture
async def page(chromium: Browser) -> AsyncIterator[Page]:
    """A fresh browser profile per test: its own cookies, like a new person at a new desk."""
    context = await chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    yield await context.new_page()
    await context.close()


Shot = Callable[[Page, str], Awaitable[None]]


@pytest.fixture
def screenshot() -> Shot:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    async def take(page: Page, name: str) -> None:
        await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    return take


@contextlib.contextmanager
def server_with_worker(database_url: str, data_dir: Path) -> Iterator[LiveServer]:
    """The real server with its job worker in the same process (Apply and corrections run
    their steps there), on the run's keys, logging into `data_dir`."""
    from settings import get_settings
    from tests.database import serving

    shutil.copy(get_settings().data_dir / "keys.json", data_dir / "keys.json")
    overrides = {"BG_RUN_WORKER_IN_PROCESS": "true", "BG_DATA_DIR": str(data_dir)}
    with contextlib.ExitStack() as stack:
        with mock.patch.dict(os.environ, overrides):  # read by the server process at its start
            server = stack.enter_context(serving(database_url, data_dir / "server.log"))
        yield server


@contextlib.asynccontextmanager
async def another_desk(chromium: Browser) -> AsyncIterator[Page]:
    """Another person at another desk: a browser context with their own cookies."""
    context = await chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield await context.new_page()
    await context.close()
