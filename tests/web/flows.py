"""Steps the page tests share: reading links out of the emails, making accounts through intake's command
line (as an operator does), signing in through the pages."""

from __future__ import annotations

import asyncio
import re
from email.message import EmailMessage

from playwright.async_api import Page

from devtools.processes import last_line, run_cli
from devtools.system import RunningSystem, email_to
from devtools.waiting import eventually

PASSWORD = "mật khẩu đủ dài 2026"


def plain_text(message: EmailMessage) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return str(part.get_content())
    return ""


def links_in(message: EmailMessage) -> list[str]:
    return re.findall(r"https?://\S+", plain_text(message))


async def email_with(system: RunningSystem, needle: str, *, to: str | None = None, timeout: float = 40) -> EmailMessage:
    """The first email whose plain text holds `needle` (and goes to `to`, when given)."""

    async def find() -> EmailMessage | None:
        for message in list(system.smtp.messages):
            if needle in plain_text(message) and (to is None or to.lower() in email_to(message)):
                return message
        return None

    found: EmailMessage = await eventually(find, timeout=timeout)
    return found


async def invite(system: RunningSystem, role: str, name: str, email: str, *extra: str) -> str:
    """`accounts create … --email …`: the last line printed is the invitation link."""
    out = await asyncio.to_thread(
        run_cli,
        "intake",
        "accounts",
        "create",
        "--role",
        role,
        "--name",
        name,
        "--email",
        email,
        *extra,
        env=system.env,
    )
    link = last_line(out)
    assert link.startswith(system.url("web") + "/moi/"), f"the invitation link lands on the web pages: {link}"
    return link


async def set_password(page: Page, link: str) -> None:
    await page.goto(link)
    await page.locator("#password").fill(PASSWORD)
    await page.locator("#password2").fill(PASSWORD)
    await page.get_by_role("button", name="Lưu mật khẩu và đăng nhập").click()


async def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(password)
    await page.get_by_role("button", name="Đăng nhập").click()


async def sign_out(page: Page) -> None:
    await page.get_by_role("button", name="Đăng xuất").click()
    await page.wait_for_url("**/dang-nhap?ra=1")
