"""The administrator's accounts page in a real browser against the five real services: an admin signs in
through an invitation link, sees the accounts, re-sends a person's invitation; the new email arrives with a
working link and the older link no longer works; a reporter is refused the page; the admin creates an account
through the form (a missing unit is said beside its field) and its invitation email arrives."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from devtools.system import RunningSystem, email_to
from devtools.waiting import eventually
from tests.web.browser import PHONE, shot
from tests.web.flows import PASSWORD, invite, links_in, set_password

pytestmark = [pytest.mark.e2e, pytest.mark.web]

ADMIN_EMAIL = "quantri@club.example"
REPORTER_EMAIL = "canbo.trangbang@club.example"
REPORTER_NAME = "Lê Thị Cán Bộ"
NEW_EMAIL = "canbo.godau@club.example"
NEW_NAME = "Phạm Văn Gò Dầu"


async def test_an_admin_resends_an_invitation_and_a_reporter_is_refused(web_system: RunningSystem, browser: Browser):
    web = web_system.url("web")
    admin_link = await invite(web_system, "admin", "Nguyễn Quản Trị", ADMIN_EMAIL)
    first_link = await invite(web_system, "reporter", REPORTER_NAME, REPORTER_EMAIL, "--unit", "phuong-trang-bang")

    admin = await (await browser.new_context(viewport=PHONE, locale="vi-VN")).new_page()
    await set_password(admin, admin_link)
    await admin.wait_for_url("**/quan-tri/tai-khoan")
    await admin.get_by_role("link", name="Quản lý tài khoản").click()
    await expect(admin.get_by_role("heading", level=1)).to_have_text("Quản lý tài khoản")
    card = admin.locator("li.card", has_text=REPORTER_EMAIL)
    await expect(card).to_contain_text(REPORTER_NAME)
    await expect(card).to_contain_text("Cán bộ báo cáo")
    await expect(card).to_contain_text("Trảng Bàng")  # the unit by its Vietnamese name
    await expect(card).to_contain_text("Chưa đặt mật khẩu")
    await expect(admin.locator("li.card", has_text=ADMIN_EMAIL)).to_contain_text("Đã đặt mật khẩu")
    await shot(admin, "80-quan-tri-tai-khoan", desktop=True)

    # A POST without this browser's CSRF token is refused, and sends nothing.
    account_id = (await card.get_attribute("id") or "")[len("tk-") :]
    forged = await admin.request.post(f"{web}/quan-tri/tai-khoan/{account_id}/loi-moi", form={"x": "1"})
    assert forged.status == 403

    await card.get_by_role("button", name="Gửi lại lời mời").click()
    await expect(admin.get_by_role("status")).to_contain_text(f"Đã gửi lại lời mời đến {REPORTER_EMAIL}")
    await shot(admin, "81-quan-tri-da-gui-lai-loi-moi")

    async def new_link() -> str | None:
        for message in list(web_system.smtp.messages):
            if REPORTER_EMAIL in email_to(message):
                for found in links_in(message):
                    if "/moi/" in found and found != first_link:
                        return found
        return None

    second_link = await eventually(new_link, timeout=30)
    assert second_link.startswith(web + "/moi/")

    async def two_emails() -> bool:
        # one for the invitation made by the command line, one for the re-sent one
        return sum(REPORTER_EMAIL in email_to(m) for m in list(web_system.smtp.messages)) == 2

    await eventually(two_emails, timeout=10)

    reporter = await (await browser.new_context(viewport=PHONE, locale="vi-VN")).new_page()
    await reporter.goto(first_link)
    await expect(reporter.get_by_role("heading", level=1)).to_have_text("Liên kết không còn hiệu lực")
    await shot(reporter, "82-loi-moi-cu-het-hieu-luc")
    await reporter.goto(second_link)
    await expect(reporter.get_by_role("heading", level=1)).to_have_text("Chào mừng đến với Cầu Nối")
    await set_password(reporter, second_link)
    await reporter.wait_for_url("**/vu-viec")

    # The reporter has no link to the page, and is refused it.
    await expect(reporter.get_by_role("link", name="Quản lý tài khoản")).to_have_count(0)
    refused = await reporter.goto(f"{web}/quan-tri/tai-khoan")
    assert refused is not None and refused.status == 403
    await expect(reporter.get_by_role("heading", level=1)).to_have_text("Không có quyền truy cập")
    await shot(reporter, "83-quan-tri-tai-khoan-403")
    posted = await reporter.request.post(f"{web}/quan-tri/tai-khoan/{account_id}/loi-moi", form={"x": "1"})
    assert posted.status == 403

    # Back on the admin's page, the reporter's password is now set.
    await admin.goto(f"{web}/quan-tri/tai-khoan")
    await expect(admin.locator("li.card", has_text=REPORTER_EMAIL)).to_contain_text("Đã đặt mật khẩu")
    assert PASSWORD not in await admin.content()

    # A new account through the form: a reporter without a unit is refused beside the field.
    await admin.get_by_role("link", name="Tạo tài khoản mới").click()
    await expect(admin.get_by_role("heading", level=1)).to_have_text("Tạo tài khoản")
    await shot(admin, "84-quan-tri-tao-tai-khoan", desktop=True)
    await admin.locator("#name").fill(NEW_NAME)
    await admin.locator("#email").fill(NEW_EMAIL)
    await admin.locator("#role").select_option("reporter")
    await admin.get_by_role("button", name="Tạo tài khoản và gửi lời mời").click()
    await expect(admin.locator("#unit-loi")).to_contain_text("phải gắn với một đơn vị")
    await shot(admin, "85-quan-tri-tao-tai-khoan-loi")
    await admin.locator("#unit").select_option(label="Phường Gò Dầu")
    await admin.get_by_role("button", name="Tạo tài khoản và gửi lời mời").click()
    await expect(admin.get_by_role("status")).to_contain_text(f"gửi lời mời đến {NEW_EMAIL}")
    await expect(admin.locator("li.card", has_text=NEW_EMAIL)).to_contain_text("Phường Gò Dầu")
    await shot(admin, "86-quan-tri-da-tao-tai-khoan")

    async def invitation() -> str | None:
        for message in list(web_system.smtp.messages):
            if NEW_EMAIL in email_to(message):
                return next((found for found in links_in(message) if "/moi/" in found), None)
        return None

    newcomer = await (await browser.new_context(viewport=PHONE, locale="vi-VN")).new_page()
    await set_password(newcomer, await eventually(invitation, timeout=30))
    await newcomer.wait_for_url("**/vu-viec")
