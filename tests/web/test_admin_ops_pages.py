"""Administration and operations in a real browser against the five real services:

- an administrator creates an account through the form and its invitation arrives by email with a working
  link; changes the person's role (the person signs in again with the new one); sees the last sign-in; locks
  an account;
- the audit log shows a read of a child's data, filtered by the case's code, and downloads it as CSV (no child
  data in it, only the names of the fields read);
- the reference data shows the 2025 reorganisation (former districts ended 2025-06-30, with their successors)
  and a category is changed;
- an operator sees a dead-lettered event on the dead-letter page (metadata only), replays it and it is
  delivered (the email it stands for arrives); the delivery log shows what was sent to whom.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import aio_pika
import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from devtools.system import RunningSystem, email_to
from devtools.waiting import eventually
from shared.events import Envelope
from shared.events.intake import AccountLinkIssued
from shared.sealed import account_link_context, development_sealer
from shared.topology import Topology
from tests.web.browser import PHONE, shot
from tests.web.flows import PASSWORD, invite, links_in, set_password, sign_in, sign_out

pytestmark = [pytest.mark.e2e, pytest.mark.web]

ADMIN_EMAIL = "quantri.hai@club.example"
OPERATOR_EMAIL = "vanhanh@club.example"
NEW_EMAIL = "uyvien.btv@club.example"
NEW_NAME = "Đặng Thị Thường Vụ"
LOST_EMAIL = "thu.bi.lac@club.example"


async def _invitation_to(system: RunningSystem, address: str) -> str:
    async def found() -> str | None:
        for message in list(system.smtp.messages):
            if address in email_to(message):
                return next((link for link in links_in(message) if "/moi/" in link), None)
        return None

    link: str = await eventually(found, timeout=40)
    return link


async def _page(browser: Browser) -> Page:
    return await (await browser.new_context(viewport=PHONE, locale="vi-VN", accept_downloads=True)).new_page()


async def test_an_admin_keeps_the_accounts_audit_log_and_reference_data(web_system: RunningSystem, browser: Browser):
    web = web_system.url("web")
    admin = await _page(browser)
    await set_password(admin, await invite(web_system, "admin", "Nguyễn Văn Quản Trị", ADMIN_EMAIL))
    await admin.wait_for_url("**/quan-tri/tai-khoan")

    # A new account through the form; its invitation arrives by email with a working link.
    await admin.get_by_role("link", name="Tạo tài khoản mới").click()
    await admin.locator("#name").fill(NEW_NAME)
    await admin.locator("#email").fill(NEW_EMAIL)
    await admin.locator("#role").select_option("committee")
    await admin.get_by_role("button", name="Tạo tài khoản và gửi lời mời").click()
    await expect(admin.get_by_role("status")).to_contain_text(f"gửi lời mời đến {NEW_EMAIL}")
    newcomer = await _page(browser)
    link = await _invitation_to(web_system, NEW_EMAIL)
    assert link.startswith(web + "/moi/")
    await set_password(newcomer, link)
    await newcomer.wait_for_url("**/ban-thuong-vu")  # the committee's home: its inbox
    await newcomer.goto(f"{web}/tai-khoan")
    await expect(newcomer.locator("main")).to_contain_text(NEW_NAME)

    # The admin sees the last sign-in, and makes the newcomer chair: the old session ends.
    await admin.goto(f"{web}/quan-tri/tai-khoan")
    card = admin.locator("li.card", has_text=NEW_EMAIL)
    await expect(card).to_contain_text("Đăng nhập lần cuối")
    await expect(card).not_to_contain_text("Chưa đăng nhập")
    await shot(admin, "90-quan-tri-tai-khoan-dang-nhap-cuoi", desktop=True)
    await card.get_by_role("link", name="Sửa").click()
    await expect(admin.get_by_role("heading", level=1)).to_have_text("Sửa tài khoản")
    await admin.locator("#role").select_option("chair")
    await shot(admin, "91-quan-tri-sua-tai-khoan", desktop=True)
    await admin.get_by_role("button", name="Lưu thay đổi").click()
    await expect(admin.get_by_role("status")).to_contain_text("Đã lưu tài khoản")
    await expect(admin.locator("li.card", has_text=NEW_EMAIL)).to_contain_text("Chủ nhiệm")
    await newcomer.goto(f"{web}/vu-viec")  # the page asks intake with the committee session: revoked
    await newcomer.wait_for_url("**/dang-nhap?tiep=**")
    await sign_in(newcomer, NEW_EMAIL)
    await newcomer.wait_for_url("**/vu-viec")
    await newcomer.goto(f"{web}/tai-khoan")
    await expect(newcomer.locator("main")).to_contain_text("Chủ nhiệm")

    # Locking an account: it says so, and it can be unlocked.
    await invite(web_system, "reporter", "Cán Bộ Bị Khóa", LOST_EMAIL, "--unit", "phuong-tan-ninh")
    await admin.goto(f"{web}/quan-tri/tai-khoan")
    lost = admin.locator("li.card", has_text=LOST_EMAIL)
    await lost.get_by_role("button", name="Khóa và thu hồi quyền").click()
    await expect(admin.get_by_role("status")).to_contain_text("Đã khóa tài khoản")
    await expect(admin.locator("li.card", has_text=LOST_EMAIL)).to_contain_text("Đã khóa")
    await shot(admin, "92-quan-tri-da-khoa")

    # The audit log: a reporter reads a child's data through the API; the admin finds it by the case's code.
    async with httpx.AsyncClient(timeout=30) as client:
        case = await web_system.post_case(client)
        child = await client.get(f"{web_system.url('intake')}/v1/cases/{case['id']}/child", headers=web_system.reporter)
        assert child.status_code == 200
        child_name = child.json()["child"]["name"]
    await admin.get_by_role("link", name="Nhật ký truy cập").first.click()
    await expect(admin.get_by_role("heading", level=1)).to_have_text("Nhật ký truy cập dữ liệu trẻ em")
    await admin.locator("#ma-vu-viec").fill(case["code"])
    today = web_system.local_now().date()
    await admin.locator("#tu").fill((today - timedelta(days=1)).isoformat())
    await admin.locator("#den").fill(today.isoformat())
    await admin.get_by_role("button", name="Lọc").click()
    row = admin.locator("tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text(case["code"])
    await expect(row).to_contain_text("Xem thông tin của trẻ")
    await expect(row).to_contain_text("Họ và tên")
    assert child_name not in await admin.content()
    await shot(admin, "93-quan-tri-nhat-ky-truy-cap", desktop=True)
    async with admin.expect_download() as downloading:
        await admin.get_by_role("link", name="Tải CSV").click()
    download = await downloading.value
    text = (await download.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Thời điểm" and len(rows) == 2 and rows[1][5] == case["code"]
    assert child_name not in text
    await admin.locator("#tu").fill(today.isoformat())
    await admin.locator("#den").fill((today - timedelta(days=2)).isoformat())
    await admin.get_by_role("button", name="Lọc").click()
    await expect(admin.locator("#den-loi")).to_contain_text("không được trước ngày bắt đầu")

    # Reference data: the nine former districts, towns and city with their successors; a category changed.
    await admin.get_by_role("link", name="Danh mục").first.click()
    await expect(admin.get_by_role("heading", level=1)).to_have_text("Danh mục")
    former = admin.locator("#don-vi-cu tbody tr")
    await expect(former).to_have_count(9)
    trang_bang = admin.locator("#dv-trang-bang")
    await expect(trang_bang).to_contain_text("30/06/2025")
    await expect(trang_bang).to_contain_text("Phường Trảng Bàng")
    await shot(admin, "94-quan-tri-danh-muc", desktop=True)
    await admin.goto(f"{web}/quan-tri/danh-muc/don-vi/trang-bang")
    await expect(admin.get_by_role("heading", level=1)).to_have_text("Sửa đơn vị")
    await shot(admin, "95-quan-tri-sua-don-vi")
    await admin.goto(f"{web}/quan-tri/danh-muc/loai-vu-viec/neglect")
    await admin.locator("#suggested_urgency").select_option("high")
    await shot(admin, "96-quan-tri-sua-loai-vu-viec")
    await admin.get_by_role("button", name="Lưu loại vụ việc").click()
    await expect(admin.get_by_role("status")).to_contain_text("Đã lưu")
    await expect(admin.locator("#lv-neglect")).to_contain_text("Cao")

    # The operator's pages are not the admin's.
    refused = await admin.goto(f"{web}/van-hanh/thu-chet")
    assert refused is not None and refused.status == 403
    await sign_out(admin)


async def test_an_operator_replays_a_dead_letter_and_reads_the_delivery_log(
    web_system: RunningSystem, browser: Browser
):
    web = web_system.url("web")
    operator = await _page(browser)
    await set_password(operator, await invite(web_system, "operator", "Lý Văn Vận Hành", OPERATOR_EMAIL))
    await operator.wait_for_url("**/van-hanh/thu-chet")
    await expect(operator.locator("#hang-doi-notify")).to_contain_text("0")

    # A dead letter: an invitation email event that came with the wrong routing key, so notify refused it.
    account_id = uuid.uuid4()
    now = web_system.clock.now()
    lost_link = f"{web}/moi/thu-phat-lai-{account_id.hex}"
    lost = AccountLinkIssued(
        account_id=account_id,
        kind="invitation",
        sealed_link=development_sealer().seal("notify", lost_link, account_link_context(account_id)),
        email="phat.lai@club.example",
        display_name="Người Được Phát Lại",
        issued_at=now,
        expires_at=now + timedelta(hours=72),
    )
    envelope = Envelope.wrap(lost, producer="intake")
    topology = Topology(web_system.env["BROKER_NAMESPACE"])
    connection = await aio_pika.connect(web_system.tap.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(topology.events_exchange)
        message = aio_pika.Message(
            envelope.model_dump_json().encode(),
            type=envelope.type,
            message_id=str(envelope.event_id),
            app_id="intake",
            timestamp=now,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await exchange.publish(message, routing_key="zalo.user_activity")  # bound to notify, not its type

    async def dead() -> bool:
        await operator.goto(f"{web}/van-hanh/thu-chet")
        return (await operator.locator("#hang-doi-notify .count").inner_text()).strip() == "1"

    await eventually(dead, timeout=40)
    await shot(operator, "97-van-hanh-thu-chet", desktop=True)
    await operator.get_by_role("link", name="Xem thư chết của Thông báo").click()
    letter = operator.locator(f"#thu-{envelope.event_id}")
    await expect(letter).to_contain_text("account.link_issued")
    await expect(letter).to_contain_text("Tiếp nhận")  # the producer
    await expect(letter).to_contain_text("Bị từ chối")
    await expect(letter).to_contain_text("zalo.user_activity")
    page_text = await operator.content()
    assert "phat.lai@club.example" not in page_text and "Người Được Phát Lại" not in page_text, "never the body"
    await shot(operator, "98-van-hanh-thu-chet-notify", desktop=True)
    assert not any("phat.lai@club.example" in email_to(m) for m in list(web_system.smtp.messages))

    await letter.get_by_role("button", name="Phát lại thư này").click()
    await expect(operator.get_by_role("status").first).to_contain_text("Đã phát lại 1 thư")
    await expect(operator.locator(".cards")).to_have_count(0)
    await shot(operator, "99-van-hanh-da-phat-lai")
    replayed = await _invitation_to(web_system, "phat.lai@club.example")
    assert replayed == lost_link, "the replayed event was delivered: its email went out"

    # The delivery log: the invitation emails, to whom, on which channel, sent.
    await operator.get_by_role("link", name="Nhật ký gửi tin").first.click()
    await expect(operator.get_by_role("heading", level=1)).to_have_text("Nhật ký gửi tin")
    sent = operator.locator("li.card", has_text="Người Được Phát Lại")

    async def marked_sent() -> bool:  # notify marks it sent just after the SMTP server took it
        await operator.reload()
        return "Đã gửi" in await sent.inner_text()

    await eventually(marked_sent, timeout=20)
    await expect(sent).to_contain_text("Lời mời đăng nhập")
    await expect(sent).to_contain_text("Email")
    await shot(operator, "9a-van-hanh-nhat-ky-gui-tin", desktop=True)
    await operator.locator("#trang-thai").select_option("dead")
    await operator.get_by_role("button", name="Lọc").click()
    await expect(operator.get_by_role("status")).to_contain_text("Không có tin nào")

    # The admin's pages are not the operator's.
    refused = await operator.goto(f"{web}/quan-tri/nhat-ky-truy-cap")
    assert refused is not None and refused.status == 403
    await expect(operator.get_by_role("heading", level=1)).to_have_text("Không có quyền truy cập")
    await shot(operator, "9b-van-hanh-quan-tri-403")
    assert PASSWORD not in await operator.content()
