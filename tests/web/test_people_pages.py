"""People's pages in a real browser against the five real services: a reporter signs in through an invitation
link, reports a case through the form (field errors beside the fields; a double submit makes one case), sees
the unit's cases and sends the monthly report; another unit's case is refused; a member receives the email,
follows its link, signs in, accepts, reads the child's data on purpose (audited) and writes then edits an
opinion; a member answers a child's counseling request and the child reads it by code.

The demo club's members with quiet hours get their emails deferred at night, so these tests do not choose
a member: they follow whichever assignment email arrives first (a member without quiet hours; the demo club
has several in every field)."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from devtools.processes import last_line, run_cli
from devtools.system import RunningSystem, email_to
from devtools.waiting import eventually
from tests.web.browser import PHONE, shot
from tests.web.flows import PASSWORD, email_with, invite, links_in, set_password, sign_in, sign_out

pytestmark = [pytest.mark.e2e, pytest.mark.web]

CHILD_NAME = "Nguyễn Thị Bé Hoa"
SUMMARY = "Trẻ bị cha dượng đánh nhiều lần, có vết bầm ở tay. Hàng xóm báo cho công an phường."
REPORTER_EMAIL = "canbo.tanninh@club.example"


async def _member_of(system: RunningSystem, code: str) -> tuple[str, str]:
    """(member id, email) of the member whose assignment email for `code` arrived first."""
    message = await email_with(system, code)
    address = email_to(message)[0]

    async def member() -> tuple[str, str] | None:
        for envelope in system.tap.of_type("case.assigned") + system.tap.of_type("counseling_request.assigned"):
            payload: dict[str, Any] = envelope.payload
            assignments = payload.get("assignments") or [payload.get("assignment")]
            for assignment in assignments:
                person = assignment["member"]
                if (person.get("email") or "").lower() == address:
                    return person["member_id"], address
        return None

    found: tuple[str, str] = await eventually(member, timeout=20)
    return found


async def _audit_actions(system: RunningSystem, subject: str) -> list[str]:
    conn = await asyncpg.connect(system.env["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        rows = await conn.fetch("SELECT action FROM intake.audit_log WHERE case_id = $1::uuid ORDER BY id", subject)
        return [r["action"] for r in rows]
    finally:
        await conn.close()


async def _report_with_errors_then_valid(page: Page, web: str) -> tuple[str, str]:
    await page.get_by_role("link", name="Báo cáo vụ việc", exact=True).first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Báo cáo vụ việc")
    await shot(page, "32-bao-cao-vu-viec-bieu-mau", desktop=True)

    # Sent empty but for a word as the child's age: intake's field errors come back beside each field.
    await page.locator("#child-age").fill("ba")
    await page.get_by_role("button", name="Gửi báo cáo").click()
    await expect(page.locator("#category-loi")).to_have_text("Hãy chọn loại vụ việc.")
    await expect(page.locator("#urgency-loi")).to_have_text("Hãy chọn mức độ khẩn cấp.")
    await expect(page.locator("#summary-loi")).to_have_text("Hãy tóm tắt sự việc.")
    await expect(page.locator("#child-age-loi")).to_contain_text("số nguyên")
    await expect(page.get_by_role("alert")).to_contain_text("Chưa gửi được")
    await shot(page, "33-bao-cao-vu-viec-loi")

    await page.locator("#category").select_option(label="Bạo lực thể chất")
    await page.locator("#urgency-high").check()
    await page.locator("#summary").fill(SUMMARY)
    await page.get_by_label("Trẻ em bị bỏ rơi").check()
    await page.locator("#child-name").fill(CHILD_NAME)
    await page.locator("#child-age").fill("9")
    await page.locator("#child-sex").select_option("female")
    await page.locator("#child-school").fill("Trường Tiểu học Lê Lợi")
    await page.locator("#consent-guardian-given").check()
    # The system lives at DAYTIME (devtools.system): Tuesday 10 November 2026, 10:00 in Tây Ninh.
    await page.locator("#consent-guardian-recorded_by").fill("Cán bộ phường Tân Ninh")
    await page.locator("#consent-guardian-recorded_at").fill("2026-11-10T08:15")
    await page.locator("#reporter_contact-phone").fill("0276 3822 111")
    # Intake's own rule (a child from 7 needs to agree) comes back beside the child's consent.
    await page.get_by_role("button", name="Gửi báo cáo").click()
    await expect(page.locator("#consent-child-loi")).to_contain_text("đồng ý của trẻ")
    await page.locator("#consent-child-given").check()
    await page.locator("#consent-child-recorded_by").fill("Cán bộ phường Tân Ninh")
    await page.locator("#consent-child-recorded_at").fill("2026-11-10T08:20")

    # A double submit: the same form (same Idempotency-Key) posted twice makes one case.
    fields = await page.locator(
        "form[action='/bao-cao-vu-viec'] input, form[action='/bao-cao-vu-viec'] textarea, "
        "form[action='/bao-cao-vu-viec'] select"
    ).evaluate_all(
        "els => els.filter(e => e.name && ((e.type !== 'checkbox' && e.type !== 'radio') || e.checked))"
        ".map(e => [e.name, e.value])"
    )
    form = {name: value for name, value in fields if name != "special_circumstances"}
    form["special_circumstances"] = "b"
    first = await page.request.post(web + "/bao-cao-vu-viec", form=form, max_redirects=0)
    second = await page.request.post(web + "/bao-cao-vu-viec", form=form, max_redirects=0)
    if first.status != 303:
        errors = re.findall(r'class="error"[^>]*>([^<]*)<', await first.text())
        pytest.fail(f"the report was refused: {first.status} {errors} {form}")
    assert second.status == 303, second.status
    assert first.headers["location"] == second.headers["location"], "one case for a double submit"
    case_path = first.headers["location"].split("?")[0]
    case_id = case_path.rsplit("/", 1)[1]

    response = await page.goto(web + first.headers["location"])
    assert response is not None and response.headers["cache-control"] == "no-store"
    await expect(page.get_by_role("status")).to_contain_text("Đã gửi báo cáo")
    code = (await page.locator("h1").inner_text()).replace("Vụ việc", "").strip()
    assert re.fullmatch(r"TN-\d{4}-\d{6}", code), code
    await expect(page.get_by_text("Trẻ em bị bỏ rơi")).to_be_visible()
    assert CHILD_NAME not in await page.content(), "the child's data is hidden until asked for"
    await shot(page, "34-vu-viec-da-bao-cao", desktop=True)
    return case_id, code


async def test_a_reporter_reports_and_a_member_accepts_and_gives_an_opinion(
    web_system: RunningSystem, browser: Browser
):
    web = web_system.url("web")
    link = await invite(web_system, "reporter", "Trần Văn Cán Bộ", REPORTER_EMAIL, "--unit", "phuong-tan-ninh")

    reporter = await (await browser.new_context(viewport=PHONE, locale="vi-VN")).new_page()
    await reporter.goto(link)
    await expect(reporter.get_by_role("heading", level=1)).to_have_text("Chào mừng đến với Cầu Nối")
    await shot(reporter, "30-moi-dat-mat-khau", desktop=True)
    await reporter.locator("#password").fill("ngắn")
    await reporter.locator("#password2").fill("ngắn")
    await reporter.get_by_role("button", name="Lưu mật khẩu và đăng nhập").click()
    await expect(reporter.locator("#password-loi")).to_contain_text("ít nhất 10 ký tự")
    await shot(reporter, "31-moi-mat-khau-ngan")
    await set_password(reporter, link)
    await reporter.wait_for_url("**/vu-viec")
    cookies = await reporter.context.cookies()
    session_cookie = next(c for c in cookies if c["name"] == "cn_session")
    assert session_cookie["httpOnly"] and session_cookie["sameSite"] == "Lax"

    case_id, code = await _report_with_errors_then_valid(reporter, web)

    await reporter.get_by_role("button", name="Xem thông tin trẻ").click()
    await expect(reporter.locator(".facts.child")).to_contain_text(CHILD_NAME)
    assert CHILD_NAME not in await reporter.title() and CHILD_NAME not in reporter.url
    await shot(reporter, "35-vu-viec-thong-tin-tre")
    assert "read_child" in await _audit_actions(web_system, case_id), "intake audited the read"

    await reporter.get_by_role("link", name="Vụ việc", exact=True).click()
    await expect(reporter.get_by_role("link", name=code)).to_be_visible()
    await shot(reporter, "36-vu-viec-cua-don-vi", desktop=True)

    # Monthly report: a bad number is refused beside its field, then two revisions.
    await reporter.get_by_role("link", name="Báo cáo tháng").click()
    await shot(reporter, "37-bao-cao-thang-danh-sach", desktop=True)
    await reporter.locator("tbody tr").first.get_by_role("link").click()
    await reporter.locator("#cat-violence_physical").fill("-2")
    await reporter.get_by_role("button", name="Gửi báo cáo tháng").click()
    await expect(reporter.locator("#cat-violence_physical-loi")).to_be_visible()
    await shot(reporter, "38-bao-cao-thang-loi")
    await reporter.locator("#cat-violence_physical").fill("2")
    await reporter.locator("#sc-b").fill("4")
    await reporter.locator("#activities_held").fill("1")
    await reporter.get_by_role("button", name="Gửi báo cáo tháng").click()
    await expect(reporter.get_by_role("status")).to_contain_text("lần 1")
    await reporter.locator("#activities_held").fill("3")
    await reporter.get_by_role("button", name="Gửi báo cáo tháng").click()
    await expect(reporter.get_by_role("status")).to_contain_text("lần 2")
    await expect(reporter.locator("table tbody tr")).to_have_count(2)
    await shot(reporter, "39-bao-cao-thang-hai-lan", desktop=True)

    # Another unit's case: refused with a 403 page.
    other_token = last_line(
        run_cli(
            "intake",
            "accounts",
            "create",
            "--role",
            "reporter",
            "--name",
            "Xã khác",
            "--unit",
            "phuong-go-dau",
            env=web_system.env,
        )
    )
    async with httpx.AsyncClient(timeout=10) as client:
        other = await client.post(
            f"{web_system.url('intake')}/v1/cases",
            headers={"Authorization": f"Bearer {other_token}"},
            json={"unit": "phuong-go-dau", "category": "neglect", "urgency": "low", "summary": "Trẻ bị bỏ mặc."},
        )
        assert other.status_code == 201, other.text
    refused = await reporter.goto(f"{web}/cases/{other.json()['id']}")
    assert refused is not None and refused.status == 403
    await expect(reporter.get_by_role("heading", level=1)).to_have_text("Không có quyền truy cập")
    await shot(reporter, "40-vu-viec-don-vi-khac-403")
    await sign_out(reporter)
    await expect(reporter.get_by_role("status")).to_have_text("Đồng chí đã đăng xuất.")
    await shot(reporter, "41-da-dang-xuat")

    # The member assigned first (by email) gets an account, then follows the email's case link.
    member_id, address = await _member_of(web_system, code)
    message = await email_with(web_system, code, to=address)
    case_link = f"{web}/cases/{case_id}"
    assert case_link in links_in(message)
    member_link = await invite(web_system, "member", "Chuyên gia", address, "--member-id", member_id)
    setup = await (await browser.new_context(viewport=PHONE, locale="vi-VN")).new_page()
    await set_password(setup, member_link)
    await setup.wait_for_url("**/phan-cong")
    await expect(setup.get_by_role("link", name=f"Vụ việc {code}")).to_be_visible()
    await shot(setup, "50-phan-cong-cua-toi", desktop=True)
    await setup.context.close()

    member = await (await browser.new_context(viewport=PHONE, locale="vi-VN")).new_page()
    await member.goto(case_link)
    await member.wait_for_url(re.compile(r".*/dang-nhap\?tiep=.*"))
    await shot(member, "51-dang-nhap", desktop=True)
    await sign_in(member, address)
    await member.wait_for_url(case_link)
    await expect(member.get_by_role("heading", name="Phân công của tôi")).to_be_visible()
    await shot(member, "52-vu-viec-cho-nhan", desktop=True)
    await member.get_by_role("button", name="Nhận vụ việc").click()
    await expect(member.get_by_role("status")).to_contain_text("đã nhận vụ việc")
    await member.locator("#text").fill("Đề nghị đưa trẻ đi khám, tư vấn tâm lý cho trẻ và mẹ; báo công an phường.")
    await member.locator("#recommended_level").select_option("intervention")
    await member.get_by_label("Cơ sở y tế").check()
    await member.get_by_role("button", name="Lưu ý kiến").click()
    await expect(member.get_by_role("status")).to_contain_text("Đã lưu ý kiến")
    await expect(member.get_by_role("heading", name="Sửa ý kiến của tôi")).to_be_visible()
    await member.locator("#text").fill("Đề nghị can thiệp: khám y tế ngay, tư vấn tâm lý, báo công an phường.")
    await member.get_by_role("button", name="Lưu ý kiến").click()
    await expect(member.get_by_role("status")).to_contain_text("Đã lưu ý kiến")
    opinions = member.locator("h2:has-text('Ý kiến chuyên môn') + ul li")
    await expect(opinions).to_have_count(1)
    await expect(opinions).to_contain_text("khám y tế ngay")
    await shot(member, "53-vu-viec-y-kien", desktop=True)
    await member.get_by_role("button", name="Xem thông tin trẻ").click()
    await expect(member.locator(".facts.child")).to_contain_text(CHILD_NAME)
    assert (await _audit_actions(web_system, case_id)).count("read_child") == 2
    await member.goto(f"{web}/phan-cong")
    await shot(member, "54-phan-cong-da-nhan")


async def test_a_member_answers_a_counseling_request_and_the_child_reads_it(
    web_system: RunningSystem, browser: Browser
):
    web = web_system.url("web")
    child = await (await browser.new_context(viewport=PHONE, locale="vi-VN")).new_page()
    await child.goto(web + "/tu-van")
    await child.locator("#message").fill("Bố mẹ em cãi nhau suốt, em rất sợ và không muốn về nhà.")
    await child.get_by_role("button", name="Gửi câu hỏi").click()
    code = (await child.locator("#ma").inner_text()).strip()
    secret = (await child.locator("#ma-bi-mat").inner_text()).replace(" ", "")

    # The member's email may wait for the end of their quiet hours: take the assignment from the event, and
    # open the page the email links to (`{PUBLIC_BASE_URL}/counseling/{request_id}`).
    async def assigned() -> dict[str, Any] | None:
        for envelope in web_system.tap.of_type("counseling_request.assigned"):
            if envelope.payload["code"] == code:
                return envelope.payload
        return None

    payload = await eventually(assigned, timeout=30)
    person = payload["assignment"]["member"]
    request_link = f"{web}/counseling/{payload['request_id']}"
    member_link = await invite(
        web_system, "member", "Chuyên gia tâm lý", person["email"], "--member-id", person["member_id"]
    )
    member = await (await browser.new_context(viewport=PHONE, locale="vi-VN")).new_page()
    await set_password(member, member_link)
    await member.wait_for_url("**/phan-cong")
    await member.goto(request_link)
    await expect(member.get_by_text("Bố mẹ em cãi nhau suốt")).to_be_visible()
    await shot(member, "60-yeu-cau-tu-van", desktop=True)
    await member.get_by_role("button", name="Gửi câu trả lời").click()
    await expect(member.locator("#text-loi")).to_be_visible()
    await member.locator("#text").fill(
        "Chào em, cảm ơn em đã tin tưởng kể cho câu lạc bộ. Khi bố mẹ cãi nhau, em hãy sang nhà người thân. "
        "Nếu có ai làm em đau, hãy gọi ngay 111."
    )
    await member.get_by_role("button", name="Gửi câu trả lời").click()
    await expect(member.get_by_role("status")).to_contain_text("Đã gửi câu trả lời")
    await shot(member, "61-yeu-cau-tu-van-da-tra-loi")
    assert "read_counseling" in await _audit_actions(web_system, request_link.rsplit("/", 1)[1])

    async def answered() -> bool:
        await child.goto(web + "/tra-cuu")
        await child.locator("#code").fill(code)
        await child.locator("#secret").fill(secret)
        await child.get_by_role("button", name="Xem câu trả lời").click()
        return await child.get_by_role("heading", name="Câu trả lời của câu lạc bộ").count() == 1

    await eventually(answered, timeout=30)
    await expect(child.locator(".answer-text")).to_contain_text("hãy gọi ngay 111")
    await shot(child, "62-tra-cuu-co-tra-loi", desktop=True)


async def test_a_person_asks_for_a_reset_link_and_sets_a_new_password(web_system: RunningSystem, browser: Browser):
    link = await invite(web_system, "reporter", "Cán bộ Gò Dầu", "canbo.godau@club.example", "--unit", "phuong-go-dau")
    page = await (await browser.new_context(viewport=PHONE, locale="vi-VN")).new_page()
    await set_password(page, link)
    await page.wait_for_url("**/vu-viec")
    await sign_out(page)
    await page.get_by_role("link", name="Quên mật khẩu?").click()
    await shot(page, "70-quen-mat-khau")
    await page.locator("#email").fill("canbo.godau@club.example")
    await page.get_by_role("button", name="Gửi liên kết").click()
    await expect(page.get_by_role("status")).to_contain_text("Nếu địa chỉ này có tài khoản")
    await shot(page, "71-quen-mat-khau-da-gui")

    async def reset_link() -> str | None:
        for message in list(web_system.smtp.messages):
            if "canbo.godau@club.example" in email_to(message):
                for found in links_in(message):
                    if "/moi/" in found and found != link:
                        return found
        return None

    reset = await eventually(reset_link, timeout=30)
    await page.goto(reset)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đặt lại mật khẩu")
    await shot(page, "72-dat-lai-mat-khau")
    await page.locator("#password").fill(PASSWORD + " mới")
    await page.locator("#password2").fill(PASSWORD + " mới")
    await page.get_by_role("button", name="Lưu mật khẩu và đăng nhập").click()
    await page.wait_for_url("**/vu-viec")
    await page.goto(reset)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Liên kết không còn hiệu lực")
    await shot(page, "73-lien-ket-het-hieu-luc")
