"""The public pages in a real browser: the home page, a child's counseling request with its code and
secret, the tracking page, field errors beside the fields, CSRF-less posts refused, and the accept link a
member gets by email landing on a web page of this look (no sign-in needed: the signed link is the
authority)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, expect

from devtools.system import RunningSystem
from tests.web.browser import DESKTOP, PHONE, shot
from tests.web.flows import email_with, links_in

pytestmark = [pytest.mark.e2e, pytest.mark.web]


async def test_a_child_asks_for_help_and_keeps_a_code_and_secret(web_system: RunningSystem, browser: Browser):
    web = web_system.url("web")
    context = await browser.new_context(viewport=PHONE, locale="vi-VN")
    page = await context.new_page()

    await page.goto(web + "/")
    await expect(page).to_have_title(re.compile("Cầu Nối"))
    hotline = page.get_by_role("link", name="Gọi 111")
    await expect(hotline).to_have_attribute("href", "tel:111")
    await shot(page, "01-trang-chu", desktop=True)

    await page.get_by_role("link", name="Gửi câu hỏi cần tư vấn").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Gửi câu hỏi cần tư vấn")
    await shot(page, "02-tu-van-bieu-mau", desktop=True)

    # Nothing written and a word for an age: both errors appear beside their fields.
    await page.get_by_label("Em bao nhiêu tuổi?").fill("mười")
    await page.get_by_role("button", name="Gửi câu hỏi").click()
    await expect(page.locator("#message-loi")).to_have_text(re.compile("Hãy viết điều em muốn hỏi"))
    await expect(page.locator("#age-loi")).to_have_text(re.compile("Tuổi là một số"))
    await expect(page.locator("#message")).to_have_attribute("aria-invalid", "true")
    await shot(page, "03-tu-van-loi")

    await page.locator("#message").fill("Em hay bị các bạn trêu chọc trên mạng, em phải làm sao?")
    await page.get_by_label("Em bao nhiêu tuổi?").fill("13")
    await page.get_by_label("Em muốn hỏi về chuyện gì?").select_option(label="Xâm hại trên không gian mạng")
    await page.get_by_role("button", name="Gửi câu hỏi").click()
    code = (await page.locator("#ma").inner_text()).strip()
    secret = (await page.locator("#ma-bi-mat").inner_text()).replace(" ", "")
    assert re.fullmatch(r"TV-\d{4}-[A-Z0-9]{8}", code) and len(secret) >= 8
    assert secret not in page.url and code not in page.url, "the code and secret never travel in a URL"
    await expect(page).to_have_title(re.compile("Đã gửi câu hỏi"))
    await shot(page, "04-tu-van-da-gui", desktop=True)

    await page.goto(web + "/tra-cuu")
    await shot(page, "05-tra-cuu-bieu-mau")
    await page.locator("#code").fill(code)
    await page.locator("#secret").fill("sai-ma-bi-mat")
    await page.get_by_role("button", name="Xem câu trả lời").click()
    await expect(page.get_by_role("alert")).to_contain_text("Không tìm thấy")
    await shot(page, "06-tra-cuu-sai-ma")
    await page.locator("#code").fill(code)
    await page.locator("#secret").fill(secret)
    await page.get_by_role("button", name="Xem câu trả lời").click()
    await expect(page.get_by_role("heading", name="Chưa có câu trả lời")).to_be_visible()
    await shot(page, "07-tra-cuu-chua-tra-loi")

    # A form whose browser lost its CSRF cookie is refused with a page that says what to do.
    await page.goto(web + "/tu-van")
    await context.clear_cookies()
    await page.locator("#message").fill("Em cần giúp")
    await page.get_by_role("button", name="Gửi câu hỏi").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Yêu cầu bị từ chối")
    await shot(page, "08-csrf-tu-choi")
    await context.close()

    async with httpx.AsyncClient(base_url=web, timeout=10) as client:
        for path in ("/tu-van", "/dang-nhap", "/dang-xuat", "/tra-cuu", "/quen-mat-khau"):
            refused = await client.post(path, data={"message": "x", "email": "a@b.vn", "password": "x"})
            assert refused.status_code == 403, f"POST {path} without a CSRF token: {refused.status_code}"


async def test_an_accept_link_from_an_email_lands_on_a_web_page(web_system: RunningSystem, browser: Browser):
    web = web_system.url("web")
    async with httpx.AsyncClient(timeout=10) as client:
        created = await web_system.post_case(client)
    message = await email_with(web_system, created["code"])
    links = links_in(message)
    accept = next(link for link in links if "/accept?" in link)
    assert accept.startswith(web + "/v1/links/assignments/"), accept
    assert f"{web}/cases/{created['id']}" in links, "the email's case link lands on the web pages"

    context = await browser.new_context(viewport=PHONE, locale="vi-VN")
    page = await context.new_page()
    await page.goto(accept)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Nhận vụ việc")
    await expect(page.get_by_text(created["code"])).to_be_visible()
    await shot(page, "20-lien-ket-nhan", desktop=True)
    await page.get_by_role("button", name="Nhận vụ việc").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đã nhận vụ việc. Cảm ơn đồng chí.")
    await shot(page, "21-lien-ket-da-nhan")

    await page.goto(accept)  # a second use
    await expect(page.get_by_role("heading", level=1)).to_have_text("Nhận vụ việc")
    await page.get_by_role("button", name="Nhận vụ việc").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Liên kết đã được dùng")
    await shot(page, "22-lien-ket-da-dung")

    await page.goto(re.sub(r"signature=[0-9a-f]+", "signature=" + "0" * 64, accept))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Liên kết không hợp lệ")
    await page.set_viewport_size(DESKTOP)
    await context.close()
