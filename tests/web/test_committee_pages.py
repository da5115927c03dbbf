"""The Standing Committee in a real browser against the five real services: in the setup a member accepts and
gives an opinion through routing's API, and the chair compiles and forwards in the browser (the chair's case page); the
committee signs in through its invitation, finds the case in its inbox with the proposal and the opinions,
records a decision (a missing choice is said beside it), the case page shows it and the chair is told (by
Zalo, the demo chair's channel); a case never forwarded is refused to the committee. Then the committee
opens the annual report, and downloads its DOCX and XLSX: both open (python-docx, openpyxl) and hold the
figures the page shows."""

from __future__ import annotations

import asyncio
import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

import docx
import httpx
import openpyxl
import pytest
from playwright.async_api import Browser, Page, expect

from devtools.processes import last_line, run_cli
from devtools.system import RunningSystem
from devtools.waiting import eventually
from tests.web.browser import PHONE, shot
from tests.web.flows import invite, set_password

pytestmark = [pytest.mark.e2e, pytest.mark.web]

COMMITTEE_EMAIL = "thuongvu.web@club.example"
PROPOSAL = "Đề xuất Ban Thường vụ chỉ đạo phối hợp nhà trường và công an phường theo dõi, hỗ trợ tâm lý cho trẻ."
OPINION = "Trẻ cần được tư vấn tâm lý hằng tuần; đề nghị nhà trường theo dõi."
DECISION = "Thông qua đề xuất; giao Chủ nhiệm phối hợp Đoàn phường Tân Ninh thực hiện và báo cáo sau 30 ngày."
# Cases for the report's figures besides the forwarded one: (category, urgency).
MORE_CASES = (("neglect", "medium"), ("family_relationships", "low"), ("school_violence", "high"))


async def _token(system: RunningSystem, role: str, *extra: str) -> dict[str, str]:
    out = await asyncio.to_thread(
        run_cli, "intake", "accounts", "create", "--role", role, "--name", f"Thử {role}", *extra, env=system.env
    )
    return {"Authorization": f"Bearer {last_line(out)}"}


async def _call(client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], **kwargs: Any):
    """Call routing with a credential it may not know yet (`credential.issued` is an event): retry its 401."""

    async def answered() -> httpx.Response | None:
        response = await client.request(method, url, headers=headers, **kwargs)
        return None if response.status_code == 401 else response

    response: httpx.Response = await eventually(answered, timeout=20)
    return response


async def _forwarded_case(system: RunningSystem, client: httpx.AsyncClient, browser: Browser) -> dict[str, Any]:
    """A case reported, accepted by one member who gives an opinion, compiled and forwarded by the chair."""
    routing = system.url("routing")
    created = await system.post_case(client)

    async def assigned() -> dict[str, Any] | None:
        for envelope in system.tap.of_type("case.assigned"):
            if envelope.payload["case_id"] == created["id"]:
                return envelope.payload
        return None

    payload = await eventually(assigned, timeout=30)
    first = next(a for a in payload["assignments"] if a["field"])
    member = await _token(system, "member", "--member-id", first["member"]["member_id"])
    accepted = await _call(client, "POST", f"{routing}/v1/assignments/{first['assignment_id']}/accept", member)
    assert accepted.status_code == 200, accepted.text
    opinion = {"text": OPINION, "recommended_level": "support", "referrals": ["school"]}
    given = await _call(client, "POST", f"{routing}/v1/cases/{created['id']}/opinions", member, json=opinion)
    assert given.status_code == 201, given.text
    # The chair compiles and forwards it in the browser, from the chair's page of the case.
    link = await invite(system, "chair", "Nguyễn Văn Chủ", "chu-nhiem-btv@doan.tayninh.example")
    chair = await (await browser.new_context(viewport=PHONE, locale="vi-VN")).new_page()
    await set_password(chair, link)
    await chair.wait_for_url("**/chu-nhiem")
    await chair.goto(f"{system.url('web')}/chu-nhiem/vu-viec/{created['id']}")
    await chair.locator("#proposal").fill(PROPOSAL)
    await chair.get_by_role("button", name="Chuyển Ban Thường vụ").click()
    await chair.wait_for_url(f"**/chu-nhiem/vu-viec/{created['id']}/to-trinh?moi=1")
    await expect(chair.locator("article.document")).to_contain_text(PROPOSAL)
    await chair.context.close()

    async def with_the_committee() -> bool:  # intake learns the state from `case.status_changed`
        response = await client.get(f"{system.url('intake')}/v1/cases/{created['id']}", headers=system.committee)
        return response.status_code == 200

    await eventually(with_the_committee, timeout=20)
    return {**created, "member_name": first["member"]["display_name"]}


async def _table(page: Page, key: str) -> dict[str, int]:
    """A figures table of the page as {label: number} (numbers as the page writes them: 1.234)."""
    rows = await page.locator(f"table[data-table='{key}'] tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].innerText.trim(), r.cells[r.cells.length - 1].innerText.trim()])"
    )
    return {label: int(value.replace(".", "")) for label, value in rows}


def _docx_tables(data: bytes) -> dict[str, dict[str, int]]:
    """The review's two-column tables by their first header: {header: {label: number}}; and the total."""
    document = docx.Document(io.BytesIO(data))
    found: dict[str, dict[str, int]] = {}
    for table in document.tables:
        cells = [[c.text.strip() for c in row.cells] for row in table.rows]
        if len(cells[0]) == 2 and cells[0][1] == "Số vụ việc":
            found[cells[0][0]] = {label: int(n.replace(".", "")) for label, n in cells[1:]}
    for paragraph in document.paragraphs:
        total = re.search(r"Tổng số vụ việc .*: ([0-9.]+) vụ việc", paragraph.text)
        if total:
            found["total"] = {"": int(total[1].replace(".", ""))}
    return found


def _xlsx_cases(data: bytes) -> dict[str, Counter[str]]:
    """The XLSX's "Vụ việc" sheet (month × unit × category × urgency × state) summed per dimension."""
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    sheet = workbook["Vụ việc"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    sums: dict[str, Counter[str]] = {"unit": Counter(), "category": Counter(), "urgency": Counter()}
    for _month, _code, unit, category, urgency, _state, cases in rows:
        sums["unit"][unit] += cases
        sums["category"][category] += cases
        sums["urgency"][urgency] += cases
    return sums


async def test_the_committee_decides_a_forwarded_case_and_downloads_the_annual_report(
    web_system: RunningSystem, browser: Browser
):
    web = web_system.url("web")
    async with httpx.AsyncClient(timeout=15) as client:
        case = await _forwarded_case(web_system, client, browser)
        other = await web_system.post_case(client, category="neglect", urgency="medium")
        for category, urgency in MORE_CASES[1:]:
            await web_system.post_case(client, category=category, urgency=urgency)
    link = await invite(web_system, "committee", "Phạm Minh Tuấn", COMMITTEE_EMAIL)

    page = await (await browser.new_context(viewport=PHONE, locale="vi-VN")).new_page()
    await set_password(page, link)
    await page.wait_for_url("**/ban-thuong-vu")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đề xuất gửi Ban Thường vụ")
    waiting = page.locator("li.card", has_text=case["code"])
    await expect(waiting).to_contain_text("1 ý kiến chuyên môn")
    await expect(waiting).to_contain_text(PROPOSAL)
    await expect(waiting).to_contain_text("Đề xuất cấp độ bảo vệ: Hỗ trợ")
    await expect(page.get_by_role("heading", name="Chờ quyết định (1)")).to_be_visible()
    await expect(page.locator("li.card", has_text=other["code"])).to_have_count(0)  # never forwarded
    await shot(page, "90-ban-thuong-vu-hop-de-xuat", desktop=True)

    # A case never forwarded is refused to the committee, even by its address.
    refused = await page.goto(f"{web}/cases/{other['id']}")
    assert refused is not None and refused.status == 403
    await page.goto(f"{web}/ban-thuong-vu")

    await waiting.get_by_role("link", name=case["code"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Vụ việc {case['code']}")
    await expect(page.locator(".proposal")).to_contain_text(PROPOSAL)
    await expect(page.locator(".card", has_text=OPINION)).to_contain_text(case["member_name"])
    await expect(page.get_by_role("button", name="Xem thông tin trẻ")).to_have_count(0)
    await shot(page, "91-ban-thuong-vu-vu-viec-cho-quyet-dinh", desktop=True)

    # Sent without a choice: said beside the choices, nothing recorded.
    await page.locator("#decision-text").fill(DECISION)
    await page.get_by_role("button", name="Ghi quyết định").click()
    await expect(page.locator("#outcome-loi")).to_have_text("Hãy chọn quyết định của Ban Thường vụ.")
    await expect(page.locator("#decision-text")).to_have_value(DECISION)
    await shot(page, "92-ban-thuong-vu-quyet-dinh-loi")
    assert web_system.tap.of_type("case.decided") == []

    await page.get_by_label("Thông qua đề xuất của Câu lạc bộ").check()
    await page.get_by_role("button", name="Ghi quyết định").click()
    await expect(page.get_by_role("status")).to_contain_text("Đã ghi quyết định của Ban Thường vụ")
    decision = page.locator(".decision")
    await expect(decision).to_contain_text("Thông qua đề xuất của Câu lạc bộ")
    await expect(decision).to_contain_text(DECISION)
    await expect(page.get_by_role("button", name="Ghi quyết định")).to_have_count(0)  # decided once
    await shot(page, "93-ban-thuong-vu-da-quyet-dinh", desktop=True)

    async def announced() -> list[Any] | None:
        return web_system.tap.of_type("case.decided") or None

    (decided,) = await eventually(announced, timeout=20)
    assert decided.payload["outcome"] == "approved" and DECISION not in str(decided.payload)
    # The chair is told on the channel they prefer (the demo club's chair: Zalo), without the decision's words.
    chair_ids = {r["zalo_user_id"] for r in decided.payload["recipients"]}

    async def told() -> list[dict[str, Any]] | None:
        sent = [m for m in web_system.zalo_for(case["code"]) if "đã có quyết định" in str(m.get("text"))]
        return sent or None

    (message,) = await eventually(told, timeout=40)
    assert chair_ids and str(message).count(DECISION) == 0
    assert any(user in str(message) for user in chair_ids)
    await page.goto(f"{web}/ban-thuong-vu")
    await expect(page.get_by_role("heading", name="Chờ quyết định (0)")).to_be_visible()
    await expect(page.locator("li.card", has_text=case["code"])).to_contain_text("Quyết định: Thông qua đề xuất")

    # The annual report: its figures once reporting has counted the four cases of this test.
    await page.get_by_role("link", name="Thống kê").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Báo cáo thống kê")
    await shot(page, "94-thong-ke", desktop=True)
    year = str(web_system.local_now().year)

    async def counted() -> bool:
        await page.goto(f"{web}/thong-ke/nam?ky={year}")
        return (await page.locator("[data-figure=total]").inner_text()) == "4"

    await eventually(counted, timeout=30)
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Báo cáo năm {year}")
    by_category = await _table(page, "theo-loai")
    by_unit = await _table(page, "theo-don-vi")
    by_urgency = await _table(page, "theo-muc-do")
    assert sum(by_category.values()) == sum(by_unit.values()) == sum(by_urgency.values()) == 4
    assert by_category["Bỏ mặc"] == 1 and by_urgency["Cao"] == 2
    assert await _table(page, "quyet-dinh") == {
        "Thông qua đề xuất": 1,
        "Thông qua có điều chỉnh": 0,
        "Trả lại để bổ sung": 0,
    }
    chart = page.locator("svg#bd-loai")
    await expect(chart).to_have_attribute("role", "img")
    assert "Bỏ mặc: 1" in (await chart.locator("desc").text_content() or "")
    await expect(page.locator("table[data-table=luoi] tbody tr").first).to_be_visible()
    await shot(page, "95-thong-ke-bao-cao-nam", desktop=True)

    async with page.expect_download() as docx_download:
        await page.get_by_role("link", name="Văn bản Word (DOCX)").click()
    word = await (await docx_download.value).path()
    tables = _docx_tables(Path(word).read_bytes())
    assert tables["total"] == {"": 4}
    assert tables["Loại vụ việc"] == by_category
    assert tables["Đơn vị"] == by_unit
    assert tables["Mức độ khẩn cấp"] == by_urgency

    async with page.expect_download() as xlsx_download:
        await page.get_by_role("link", name="Excel (XLSX) – tất cả bảng").click()
    sheet = await (await xlsx_download.value).path()
    sums = _xlsx_cases(Path(sheet).read_bytes())
    assert dict(sums["category"]) == by_category
    assert dict(sums["unit"]) == by_unit
    assert dict(sums["urgency"]) == by_urgency

    # The other reports open with their own period and downloads.
    for path, heading in (
        (f"/thong-ke/thang?ky={web_system.local_month()}", "Báo cáo tháng"),
        ("/thong-ke/quy", "Báo cáo quý"),
        ("/thong-ke/so-ket-3-nam", "Sơ kết 3 năm (2023–2025)"),
        ("/thong-ke/tong-ket-5-nam", "Tổng kết 5 năm (2023–2027)"),
    ):
        response = await page.goto(web + path)
        assert response is not None and response.status == 200, path
        await expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        await shot(page, "96-thong-ke-" + path.split("/")[2].split("?")[0], desktop=True)
    refused = await page.goto(f"{web}/thong-ke/nam?ky=20x6")
    assert refused is not None and refused.status == 422
