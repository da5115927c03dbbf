"""The committee's and the reports' pages in-process (no other service running): each role is refused the
pages that are not its own before anything is asked of another service (403 page), the roles they are for
pass the check (here the other services are away: the 503 page), and the navigation links only to a
person's own pages."""

from __future__ import annotations

import pytest

from services.web.main import create_app
from services.web.settings import WebSettings
from shared.clock import FakeClock
from tests.support.asgi import running
from tests.web.test_sessions_and_csrf import START, _csrf, _session


@pytest.fixture
def offline(base_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> WebSettings:
    """Web alone: nothing listens on port 9, so any call to another service is "unavailable" (503 page)."""
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    away = "http://127.0.0.1:9"
    return WebSettings(intake_url=away, routing_url=away, reporting_url=away)


CASE = "00000000-0000-0000-0000-000000000001"
REPORT_PAGES = (
    "/thong-ke",
    "/thong-ke/nam?ky=2026",
    "/thong-ke/so-ket-3-nam",
    "/thong-ke/nam/tai-ve/summary.xlsx?ky=2026",
    "/thong-ke/tong-ket-5-nam/van-ban.docx",
)


@pytest.mark.parametrize("role", ["reporter", "member", "chair", "committee", "operator", "admin"])
async def test_each_role_reaches_only_its_own_committee_and_report_pages(offline: WebSettings, role: str):
    app = create_app(offline, clock=FakeClock(START))
    async with running(app) as client:
        token = _csrf((await client.get("/dang-nhap")).text)
        client.cookies.set("cn_session", await _session(client, app, FakeClock(START), role=role))

        inbox = await client.get("/ban-thuong-vu")
        assert inbox.status_code == (503 if role in ("committee", "chair") else 403), inbox.status_code
        decided = await client.post(
            f"/cases/{CASE}/quyet-dinh", data={"csrf": token, "outcome": "approved", "text": "x"}
        )
        assert decided.status_code == (503 if role == "committee" else 403), decided.status_code
        for path in REPORT_PAGES:
            page = await client.get(path)
            readers = ("committee", "chair", "operator", "admin")
            if role in readers:
                assert page.status_code in (200, 503), (path, page.status_code)  # the index needs no other service
            else:
                assert page.status_code == 403 and "Không có quyền truy cập" in page.text, path
        home = (await client.get("/tai-khoan")).text
        assert ('href="/ban-thuong-vu"' in home) == (role == "committee")
        assert ('href="/thong-ke"' in home) == (role in ("committee", "chair", "operator", "admin"))


async def test_a_wrong_period_or_file_is_said_in_vietnamese(offline: WebSettings):
    app = create_app(offline, clock=FakeClock(START))
    async with running(app) as client:
        client.cookies.set("cn_session", await _session(client, app, FakeClock(START), role="committee"))
        bad = await client.get("/thong-ke/thang?ky=2026-13")
        assert bad.status_code == 422 and "Tháng không hợp lệ" in bad.text
        assert (await client.get("/thong-ke/tuan")).status_code == 404
        assert (await client.get("/thong-ke/nam/tai-ve/summary.csv")).status_code == 404  # every sheet: XLSX only
        monthly = await client.get("/thong-ke/thang/van-ban.docx")
        assert monthly.status_code == 404 and "báo cáo năm, sơ kết 3 năm và tổng kết 5 năm" in monthly.text
        index = await client.get("/thong-ke")
        assert index.status_code == 200 and "Tháng 12/2026" in index.text and "Quý IV/2026" in index.text
