"""Headless Chromium for the page tests: Debian's `chromium` (never `playwright install`), driven by
Playwright, and the screenshots every test saves so a person can look at the pages."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from playwright.async_api import Browser, Page, Playwright

REPO = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("WEB_SCREENSHOTS", REPO / ".test-output" / "screenshots"))
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise RuntimeError(
            "Chromium is missing: the web page tests need Debian's `chromium` package "
            "(`apt-get install -y chromium`; .ci/run installs it). They are not skipped."
        )
    return path


async def launch(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"], headless=True)


async def shot(page: Page, name: str, *, desktop: bool = False) -> None:
    """Save the whole page at 360 px (and at 1280 px when `desktop`): `<name>-360.png`, `<name>-desktop.png`."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^a-z0-9_-]+", "-", name.lower())
    size = page.viewport_size
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=str(SHOTS / f"{safe}-360.png"), full_page=True)
    if desktop:
        await page.set_viewport_size(DESKTOP)
        await page.screenshot(path=str(SHOTS / f"{safe}-desktop.png"), full_page=True)
    if size is not None:
        await page.set_viewport_size(size)
