"""Fixtures of the page tests: the whole system (the four services and web) as real processes, with an SMTP
sink, and a headless Chromium. `make test` prints where the screenshots are."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from devtools.processes import WITH_WEB
from devtools.system import RunningSystem, running_system
from tests.web.browser import SHOTS, launch


@pytest.fixture
async def web_system(base_env: dict[str, str], tmp_path: Path) -> AsyncIterator[RunningSystem]:
    extra = {"LOG_LEVEL": "INFO", "SIGN_IN_RETRY_SECONDS": "5"}
    async with running_system(base_env, tmp_path / "logs", services=WITH_WEB, extra_env=extra) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await launch(playwright)
        try:
            yield launched
        finally:
            await launched.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if SHOTS.exists() and any(SHOTS.glob("*.png")):
        terminalreporter.write_sep("-", "web page screenshots")
        terminalreporter.write_line(f"screenshots of every page: {SHOTS}")
