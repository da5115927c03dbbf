"""The committee's and the reports' pages in-process (no other service running): each role is refused the
pages that are not its own before anything is asked of another service (403 page), the roles they are for
pass the check (here the other services are away: the 503 page), and the navigation links only to a
person's own pages."""

from __future__ import annotations

import re

import httpx
import pytest

from services.web.clients import Apis
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


SUPPRESSED_SUMMARY = {
    "period": "2026",
    "cases": {
        "total": 12,
        "by_period": {"2026-11": 12},
        "by_category": {"neglect": 12},
        "by_unit": {"phuong-tan-ninh": 12, "xa-long-thuan": "<5"},
        "by_urgency": {"high": 12},
        "by_status": {"closed": 12},
        "suppressed": {
            "threshold": 5,
            "cells": 1,
            "vi": "Ô có ít hơn 5 vụ việc được ghi <5; các tổng chỉ cộng những ô được hiển thị.",
        },
    },
    "timings": [],
    "breaches": [],
    "counseling": [],
    "decisions": {},
    "completeness": {"months": ["2026-11"], "grid": [], "rows": [], "total": {}},
}


async def test_reportings_small_numbers_stay_hidden_and_its_files_pass_through(offline: WebSettings):
    """As an operator sees them: reporting's "<5" is shown as it is (table and chart), with its note; a download
    is reporting's bytes and file name, fetched with the person's own token."""
    seen: list[httpx.Request] = []

    def reporting(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1/reports"):
            seen.append(request)
        if request.url.path == "/v1/reports/summary":
            return httpx.Response(200, json=SUPPRESSED_SUMMARY)
        if request.url.path == "/v1/reports/plan":
            return httpx.Response(200, json={"items": [], "board_meetings": [], "club_meetings": []})
        if request.url.path == "/v1/reports/export/summary":
            disposition = 'attachment; filename="bao-cao-summary-2026.xlsx"'
            return httpx.Response(200, content=b"PK\x03\x04xlsx", headers={"Content-Disposition": disposition})
        return httpx.Response(404, json={"detail": "no"})

    app = create_app(offline, clock=FakeClock(START))
    async with running(app) as client:
        context = app.state.runtime.extras["web"]
        context.apis = Apis(offline, transport=httpx.MockTransport(reporting))
        context.reference["units"] = (1e18, [{"code": "phuong-tan-ninh", "name_vi": "Phường Tân Ninh"}])
        client.cookies.set("cn_session", await _session(client, app, FakeClock(START), role="operator"))
        page = await client.get("/thong-ke/nam?ky=2026")
        assert page.status_code == 200, page.text
        assert "Ô có ít hơn 5 vụ việc được ghi &lt;5" in page.text
        assert re.search(r"xa-long-thuan</th><td class=\"num\">&lt;5</td>", page.text)
        assert "xa-long-thuan: &lt;5" in page.text, "the chart says it too, as reporting gave it"
        download = await client.get("/thong-ke/nam/tai-ve/summary.xlsx?ky=2026")
        assert download.status_code == 200 and download.content == b"PK\x03\x04xlsx"
        assert download.headers["content-disposition"] == 'attachment; filename="bao-cao-summary-2026.xlsx"'
        assert {r.headers["authorization"] for r in seen} == {"Bearer cn_abc_secret"}
        assert seen[-1].url.params["period"] == "2026" and seen[-1].url.params["format"] == "xlsx"
