"""The chair's pages in a real browser against the five real services (the system lives at DAYTIME, a Tuesday
10:00 in Tây Ninh, when nobody's quiet hours defer an email):

- the dashboard counts and lists what needs the chair: a critical case whose 12-hour clock ran out shows
  as overdue ("quá hạn …"), a declined assignment shows under "Bị từ chối";
- the chair replaces the member who took over the declined field with another from the suggestion (shown
  with its reasons) and the new member is told by email; a forged member id is refused (4xx, Vietnamese,
  nothing changed);
- the chair compiles the opinions and forwards a case to the Standing Committee (a printable document),
  closes it and reopens it, each with a reason;
- the members registry: a CSV import is previewed (added, changed, unchanged and bad rows, field by field),
  refused while a row is bad (nothing written), then applied; the leave calendar shows who is away; a
  member's edit form refuses half a quiet-hours pair beside the field."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from devtools.processes import last_line, run_cli
from devtools.system import RunningSystem, email_to
from devtools.waiting import eventually
from services.routing.registry import parse_csv
from tests.web.browser import DESKTOP, PHONE, SHOTS, shot
from tests.web.flows import email_with, invite, set_password

pytestmark = [pytest.mark.e2e, pytest.mark.web]

CHAIR_EMAIL = "chunhiem@club.example"
CHAIR_NAME = "Nguyễn Thị Thu Hà"
DEMO = Path(__file__).resolve().parents[2] / "data" / "demo-club.csv"
EMAILS = {m.display_name: m.email for m in parse_csv(DEMO)}


async def _assigned(system: RunningSystem, code: str) -> dict[str, Any]:
    async def find() -> dict[str, Any] | None:
        return next((e.payload for e in system.tap.of_type("case.assigned") if e.payload["code"] == code), None)

    found: dict[str, Any] = await eventually(find, timeout=30)
    return found


async def _member_token(system: RunningSystem, member_id: str) -> dict[str, str]:
    out = await asyncio.to_thread(
        run_cli, "intake", "accounts", "create", "--role", "member", "--name", "Thành viên", "--member-id", member_id,
        env=system.env,
    )  # fmt: skip
    return {"Authorization": f"Bearer {last_line(out)}"}


async def _routing(system: RunningSystem, method: str, path: str, headers: dict, **kwargs: Any) -> httpx.Response:
    """As a member, once routing knows the new credential (`credential.issued` is an event)."""
    async with httpx.AsyncClient(timeout=10) as client:

        async def call() -> httpx.Response | None:
            answer = await client.request(method, f"{system.url('routing')}{path}", headers=headers, **kwargs)
            return None if answer.status_code == 401 else answer

        found: httpx.Response = await eventually(call, timeout=20)
        return found


async def _chair(system: RunningSystem, browser: Browser) -> Page:
    link = await invite(system, "chair", CHAIR_NAME, CHAIR_EMAIL)
    page = await (await browser.new_context(viewport=PHONE, locale="vi-VN")).new_page()
    await set_password(page, link)
    await page.wait_for_url("**/chu-nhiem")
    return page


async def test_the_chair_sees_what_needs_them_and_reassigns_a_declined_case(
    web_system: RunningSystem, browser: Browser
):
    web = web_system.url("web")
    learned = web_system.local_now().replace(microsecond=0) - timedelta(hours=13)  # the 12-hour clock ran out
    async with httpx.AsyncClient(timeout=10) as client:
        critical = await web_system.post_case(
            client,
            urgency="critical",
            protection_level="intervention",
            learned_at=learned.isoformat(),
        )
        declined_case = await web_system.post_case(client)
        simple = await web_system.post_case(
            client, category="physical_health", urgency="medium", protection_level="support"
        )

    # A member declines one field of the second case; routing hands it to the next candidate.
    assigned = await _assigned(web_system, declined_case["code"])
    first = next(a for a in assigned["assignments"] if a["field"] == "psychology")
    decliner = await _member_token(web_system, first["member"]["member_id"])
    answer = await _routing(web_system, "POST", f"/v1/assignments/{first['assignment_id']}/decline", decliner)
    assert answer.status_code == 200, answer.text

    async def taken_over() -> dict[str, Any] | None:
        for e in web_system.tap.of_type("case.members_changed"):
            if e.payload["code"] == declined_case["code"] and e.payload["reason"] == "declined":
                return e.payload
        return None

    takeover = await eventually(taken_over, timeout=30)
    holder = takeover["added"][0]["member"]

    # The third case: its one member accepts and writes an opinion, so the chair can compile and forward it.
    only = (await _assigned(web_system, simple["code"]))["assignments"][0]
    expert = await _member_token(web_system, only["member"]["member_id"])
    accepted = await _routing(web_system, "POST", f"/v1/assignments/{only['assignment_id']}/accept", expert)
    assert accepted.status_code == 200, accepted.text
    opinion = {"text": "Đề nghị đưa trẻ đi khám tại trạm y tế xã.", "recommended_level": "support"}
    posted = await _routing(web_system, "POST", f"/v1/cases/{simple['id']}/opinions", expert, json=opinion)
    assert posted.status_code == 201, posted.text

    chair = await _chair(web_system, browser)
    await expect(chair.get_by_role("heading", level=1)).to_have_text("Việc cần làm")
    overdue = chair.locator("#deadlines_passed li.card", has_text=critical["code"])
    await expect(overdue).to_contain_text("Can thiệp khẩn cấp 12 giờ")
    await expect(overdue).to_contain_text(re.compile(r"quá hạn (1 giờ|5\d phút)"))
    await expect(chair.locator("#deadlines_passed-h .tally-count")).to_have_text("1")
    await expect(chair.locator("#unanswered li.card", has_text=critical["code"]).first).to_be_visible()
    declined = chair.locator("#declined li.card", has_text=declined_case["code"])
    await expect(declined).to_contain_text(first["member"]["display_name"])
    await expect(declined).to_contain_text(f"Đã giao lại cho: {holder['display_name']}")
    await expect(chair.locator("#opinions_in li.card", has_text=simple["code"])).to_contain_text("1 ý kiến")
    await expect(chair.locator("#deadlines_coming li.card", has_text=simple["code"])).to_contain_text("còn ")
    await shot(chair, "110-chu-nhiem-viec-can-lam", desktop=True)

    # The declined case: replace whoever took the field over with another member from the suggestion.
    await declined.get_by_role("link", name=f"Vụ việc {declined_case['code']}").click()
    await expect(chair.get_by_role("heading", level=1)).to_have_text(f"Vụ việc {declined_case['code']}")
    field = chair.locator("fieldset", has=chair.locator("legend", has_text="Lĩnh vực Tâm lý"))
    await expect(field).to_contain_text(f"Đang giữ: {holder['display_name']}")
    await expect(field).to_contain_text("phụ trách đơn vị")
    await expect(field.locator("details")).to_contain_text("đã từ chối")  # the decliner, not suggested again
    await shot(chair, "111-chu-nhiem-vu-viec", desktop=True)
    cards_before = await chair.locator("#thanh-vien + ul li.card").count()

    # A forged member id: refused in Vietnamese, with a 4xx, and the case's members are unchanged.
    csrf = await chair.locator("input[name=csrf]").first.get_attribute("value")
    forged = await chair.request.post(
        f"{web}/chu-nhiem/vu-viec/{declined_case['id']}/thanh-vien",
        form={"csrf": csrf or "", "extra_member": "không-phải-mã", "extra_field": "law"},
    )
    assert forged.status == 422, forged.status
    assert "UUID" in await forged.text() and "Chưa lưu được" in await forged.text()
    empty = await chair.request.post(
        f"{web}/chu-nhiem/vu-viec/{declined_case['id']}/thanh-vien", form={"csrf": csrf or ""}
    )
    assert empty.status == 422 and "Hãy chọn thành viên" in await empty.text()
    await chair.reload()
    await expect(chair.locator("#thanh-vien + ul li.card")).to_have_count(cards_before)

    choices = field.locator(".suggestion", has_not_text="đã ở trong vụ việc")
    chosen = choices.filter(has_not_text=holder["display_name"]).first
    name = (await chosen.locator("label strong").inner_text()).strip()
    await chosen.locator("input").check()
    await chair.locator(f"input[name=remove][value='{holder['member_id']}']").check()
    await chair.get_by_role("button", name="Lưu thay đổi thành viên").click()
    await expect(chair.get_by_role("status")).to_contain_text("Đã lưu thay đổi thành viên")
    await expect(chair.locator("#thanh-vien + ul")).to_contain_text(name)
    await expect(chair.locator("#thanh-vien + ul")).not_to_contain_text(holder["display_name"])
    await shot(chair, "112-chu-nhiem-da-thay-thanh-vien")

    told = await email_with(web_system, declined_case["code"], to=EMAILS[name])
    assert EMAILS[name] in email_to(told)

    # Compile and forward the third case; the forwarding is a document to print.
    await chair.goto(f"{web}/chu-nhiem")
    await chair.locator("#opinions_in").get_by_role("link", name=f"Vụ việc {simple['code']}").click()
    proposal = chair.locator("#proposal")
    await expect(proposal).to_have_value(re.compile("Đề nghị đưa trẻ đi khám"))
    await expect(chair.locator("#recommended_level")).to_have_value("support")
    await proposal.fill("")
    await chair.get_by_role("button", name="Chuyển Ban Thường vụ").click()
    await expect(chair.locator("#proposal-loi")).to_contain_text("Hãy viết đề xuất")
    await shot(chair, "113-chu-nhiem-chuyen-loi")
    await proposal.fill("Tổng hợp: khám y tế cho trẻ. Đề xuất: hỗ trợ, giao Công chức văn hóa - xã hội theo dõi.")
    await chair.get_by_label("Công chức văn hóa - xã hội cấp xã").check()
    await chair.get_by_role("button", name="Chuyển Ban Thường vụ").click()
    await chair.wait_for_url(f"**/chu-nhiem/vu-viec/{simple['id']}/to-trinh?moi=1")
    await expect(chair.get_by_role("heading", level=1)).to_contain_text("TỜ TRÌNH")
    document = chair.locator("article.document")
    await expect(document).to_contain_text("Đề nghị đưa trẻ đi khám")
    await expect(document).to_contain_text("Công chức văn hóa - xã hội cấp xã")
    await expect(document).to_contain_text(web_system.env.get("CLUB_NAME") or "Câu lạc bộ")
    assert "Nguyễn Thị Bé Hoa" not in await chair.content(), "no child's name on the document"
    await shot(chair, "114-to-trinh-ban-thuong-vu", desktop=True)
    await chair.emulate_media(media="print")
    await expect(chair.locator("header.top")).to_be_hidden()
    await shot(chair, "115-to-trinh-khi-in", desktop=True)
    await chair.emulate_media(media="screen")

    await chair.get_by_role("link", name="Về vụ việc").click()
    await chair.get_by_role("button", name="Kết thúc vụ việc").click()
    await expect(chair.locator("#outcome-loi")).to_contain_text("Hãy ghi lý do")
    await chair.locator("#outcome").fill("Ban Thường vụ đồng ý; trẻ đã được khám và theo dõi.")
    await chair.get_by_role("button", name="Kết thúc vụ việc").click()
    await expect(chair.get_by_role("status")).to_contain_text("Đã kết thúc vụ việc")
    await chair.locator("#reason").fill("Gia đình báo trẻ lại đau, cần khám lại.")
    await chair.get_by_role("button", name="Mở lại vụ việc").click()
    await expect(chair.get_by_role("status")).to_contain_text("Đã mở lại vụ việc")
    await expect(chair.locator(".facts")).to_contain_text("Gia đình báo trẻ lại đau")
    await shot(chair, "116-chu-nhiem-mo-lai", desktop=True)

    # Another role is refused the chair's pages.
    reporter_link = await invite(web_system, "reporter", "Cán bộ", "canbo.x@club.example", "--unit", "phuong-go-dau")
    reporter = await (await browser.new_context(viewport=PHONE, locale="vi-VN")).new_page()
    await set_password(reporter, reporter_link)
    await reporter.wait_for_url("**/vu-viec")
    for path in ("/chu-nhiem", f"/chu-nhiem/vu-viec/{simple['id']}", "/chu-nhiem/thanh-vien"):
        refused = await reporter.goto(web + path)
        assert refused is not None and refused.status == 403, path


CSV_HEADER = (
    "key,display_name,organisation,organisation_kind,club_role,fields,units,email,channels,capacity,leave_periods"
)
CHANGED = (
    "dd-chau-thanh,Lý Thị Hồng,Huyện đoàn Châu Thành,district,member,psychology;law,chau-thanh,"
    "hong@club.example,email,3,2026-11-16..2026-11-20"
)
ADDED = "bs-an,Trần Văn An,Sở Y tế,department,member,medicine,,an.tran@club.example,email,4,2026-11-23..2026-11-27"
BAD = "bs-loi,Người Lỗi,Sở Y tế,department,member,surgery,,khong-phai-email,email,-1,"


async def test_the_chair_imports_members_from_a_csv_and_edits_one(
    web_system: RunningSystem, browser: Browser, tmp_path: Path
):
    web = web_system.url("web")
    chair = await _chair(web_system, browser)
    await chair.get_by_role("link", name="Thành viên", exact=True).click()
    await expect(chair.get_by_role("heading", level=1)).to_have_text("Thành viên câu lạc bộ")
    await expect(chair.locator("li.card", has_text="Lý Thị Hồng")).to_contain_text("Tâm lý")
    await chair.get_by_role("link", name="Nhập từ tệp CSV").click()
    await shot(chair, "117-thanh-vien-nhap-csv")

    bad = tmp_path / "thanh-vien-loi.csv"
    bad.write_text("\n".join([CSV_HEADER, CHANGED, ADDED, BAD]) + "\n", encoding="utf-8")
    await chair.locator("#file").set_input_files(str(bad))
    await chair.get_by_role("button", name="Xem trước thay đổi").click()
    await expect(chair.get_by_role("heading", level=1)).to_have_text("Xem trước thay đổi")
    rows = chair.locator("table.import-table tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.nth(0)).to_contain_text("Thay đổi")
    await expect(rows.nth(0)).to_contain_text("capacity")
    await expect(rows.nth(1)).to_contain_text("Thêm mới")
    await expect(rows.nth(2)).to_contain_text("Lỗi")
    await expect(rows.nth(2)).to_contain_text("email")
    await expect(rows.nth(2)).to_contain_text("Phải lớn hơn hoặc bằng 0")
    await expect(chair.get_by_role("button", name=re.compile("Áp dụng"))).to_have_count(0)
    await shot(chair, "118-thanh-vien-xem-truoc-co-loi", desktop=True)

    # Applying a file with a bad row anyway is refused as a whole: 422, in Vietnamese, nothing written.
    csrf = await chair.locator("input[name=csrf]").first.get_attribute("value")
    forced = await chair.request.post(
        f"{web}/chu-nhiem/thanh-vien/nhap/ap-dung", form={"csrf": csrf or "", "csv": bad.read_text(encoding="utf-8")}
    )
    assert forced.status == 422 and "Không có thay đổi nào được ghi" in await forced.text()
    await chair.goto(f"{web}/chu-nhiem/thanh-vien")
    await expect(chair.locator("li.card", has_text="Trần Văn An")).to_have_count(0)
    await expect(chair.locator("li.card", has_text="Lý Thị Hồng")).to_contain_text("/4")

    good = tmp_path / "thanh-vien.csv"
    good.write_text("\n".join([CSV_HEADER, CHANGED, ADDED]) + "\n", encoding="utf-8")
    await chair.goto(f"{web}/chu-nhiem/thanh-vien/nhap")
    await chair.locator("#file").set_input_files(str(good))
    await chair.get_by_role("button", name="Xem trước thay đổi").click()
    await expect(chair.locator(".tally-list")).to_contain_text("Thêm mới: 1")
    await expect(chair.locator(".tally-list")).to_contain_text("Thay đổi: 1")
    await expect(chair.locator("table.import-table")).to_contain_text("16/11/2026–20/11/2026")
    await shot(chair, "119-thanh-vien-xem-truoc", desktop=True)
    await chair.get_by_role("button", name="Áp dụng 2 thay đổi").click()
    await expect(chair.get_by_role("status")).to_contain_text("1 thành viên mới, 1 thành viên được cập nhật")
    await expect(chair.locator("li.card", has_text="Trần Văn An")).to_contain_text("Y tế")
    await expect(chair.locator("li.card", has_text="Lý Thị Hồng")).to_contain_text("0/3")
    calendar = chair.locator("table.calendar")
    await expect(calendar.locator("tr", has_text="Lý Thị Hồng").locator("td.off")).to_have_count(5)
    await expect(calendar.locator("tr", has_text="Trần Văn An").locator("td.off")).to_have_count(5)
    await shot(chair, "120-thanh-vien-lich-vang", desktop=True)
    await chair.set_viewport_size(DESKTOP)
    await chair.locator("section[aria-labelledby=lich]").screenshot(path=str(SHOTS / "120-thanh-vien-lich.png"))
    await chair.set_viewport_size(PHONE)

    # Again the same file: nothing to change.
    await chair.goto(f"{web}/chu-nhiem/thanh-vien/nhap")
    await chair.locator("#file").set_input_files(str(good))
    await chair.get_by_role("button", name="Xem trước thay đổi").click()
    await expect(chair.locator(".tally-list")).to_contain_text("Không đổi: 2")
    await expect(chair.get_by_text("Tệp không có gì khác")).to_be_visible()

    # Editing one member: half a quiet-hours pair is refused beside the field; then saved.
    await chair.goto(f"{web}/chu-nhiem/thanh-vien")
    await chair.locator("li.card", has_text="Trần Văn An").get_by_role("link", name=re.compile("Sửa thông tin")).click()
    await expect(chair.get_by_role("heading", level=1)).to_have_text("Trần Văn An")
    await shot(chair, "121-thanh-vien-sua", desktop=True)
    await chair.locator("#quiet_start").fill("21:30")
    await chair.locator("#capacity").fill("2")
    await chair.get_by_role("button", name="Lưu thông tin").click()
    await expect(chair.locator("#quiet_end-loi")).to_contain_text("cả giờ bắt đầu và giờ kết thúc")
    await shot(chair, "122-thanh-vien-sua-loi")
    await chair.locator("#quiet_end").fill("06:30")
    await chair.locator("#leave_starts_on").fill("2026-12-01")
    await chair.locator("#leave_ends_on").fill("2026-12-03")
    await chair.get_by_role("button", name="Lưu thông tin").click()
    await expect(chair.get_by_role("status")).to_contain_text("Đã lưu thông tin thành viên")
    card = chair.locator("li.card", has_text="Trần Văn An")
    await expect(card).to_contain_text("21:30–06:30")
    await expect(card).to_contain_text("0/2")
    await expect(card).to_contain_text("01/12/2026–03/12/2026")
