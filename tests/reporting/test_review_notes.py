"""The reviews' assessment (đánh giá: ưu điểm, hạn chế), lessons and recommendations (kiến nghị, đề xuất)
are filled from what the club recorded, beside what the figures show."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import docx

from services.reporting import store
from services.reporting.documents import docx_markdown
from services.reporting.main import create_app
from services.reporting.settings import ReportingSettings
from shared.clock import FakeClock
from tests.support.asgi import running
from tests.support.credentials import grant


async def review_text(client, headers, **params) -> str:
    response = await client.get("/v1/reports/review", params=params, headers=headers)
    assert response.status_code == 200
    return docx_markdown(docx.Document(io.BytesIO(response.content)))


async def test_the_reviews_print_the_clubs_assessment_lessons_and_recommendations(base_env, monkeypatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    app = create_app(ReportingSettings(), clock=FakeClock(datetime(2026, 12, 20, 2, 0, tzinfo=UTC)))
    async with running(app) as client:
        sessions = app.state.runtime.sessions
        chair = await grant(sessions, store.credentials, "chair")
        notes = [
            (2026, "strength", "Thành viên nhận vụ việc kịp thời"),
            (2026, "limitation", "Một số đơn vị mới chưa quen quy trình báo cáo tháng"),
            (2026, "lesson", "Giữ liên hệ thường xuyên với Đoàn các xã, phường"),
            (2026, "recommendation", "Đề nghị Ủy ban nhân dân tỉnh hỗ trợ kinh phí tập huấn hằng năm"),
            (2025, "lesson", "Bài học của năm 2025"),
        ]
        for year, section, text in notes:
            body = {"year": year, "section": section, "text_vi": text}
            assert (await client.post("/v1/reviews/notes", json=body, headers=chair)).status_code == 201
        wrong = await client.post(
            "/v1/reviews/notes",
            json={"year": 2026, "section": "summary", "text_vi": "x"},
            headers={**chair, "Accept-Language": "vi"},
        )
        assert wrong.status_code == 422 and wrong.json()["detail"][0]["message"].startswith(
            "Giá trị phải là một trong:"
        )
        assert " hoặc " in wrong.json()["detail"][0]["message"]
        committee = await grant(sessions, store.credentials, "committee")
        refused = await client.post(
            "/v1/reviews/notes", json={"year": 2026, "section": "lesson", "text_vi": "x"}, headers=committee
        )
        assert refused.status_code == 403
        proposal = {
            "topic_vi": "Tập huấn",
            "text_vi": "Mở lớp tập huấn",
            "proposed_by": "Lê Quang Minh",
            "submitted_on": "2026-10-01",
        }
        member = await grant(sessions, store.credentials, "member")
        assert (await client.post("/v1/proposals", json=proposal, headers=member)).status_code == 201

        text = await review_text(client, chair, kind="annual", year=2026)
        order = [
            text.index(h) for h in ("ĐÁNH GIÁ CHUNG", "PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI", "KIẾN NGHỊ, ĐỀ XUẤT")
        ]
        assert order == sorted(order)
        assert "1. Ưu điểm" in text and "- Thành viên nhận vụ việc kịp thời." in text
        assert "2. Hạn chế, nguyên nhân" in text and "- Một số đơn vị mới chưa quen quy trình báo cáo tháng." in text
        assert "Còn " in text and "nội dung của Kế hoạch chưa thực hiện đúng hạn" in text  # the action programme
        assert "3. Bài học kinh nghiệm" in text and "- Giữ liên hệ thường xuyên với Đoàn các xã, phường." in text
        assert "Bài học của năm 2025" not in text
        assert "- Đề nghị Ủy ban nhân dân tỉnh hỗ trợ kinh phí tập huấn hằng năm." in text
        assert "thành viên Câu lạc bộ có 1 ý kiến, đề xuất gửi Ban Thường vụ Tỉnh đoàn" in text

        five = await review_text(client, chair, kind="five_year")
        assert "Bài học của năm 2025" in five and "Giữ liên hệ thường xuyên với Đoàn các xã, phường" in five
        empty = await review_text(client, chair, kind="annual", year=2024)
        assert "- Câu lạc bộ chưa ghi nhận bài học kinh nghiệm cho kỳ này." in empty
        assert "- Không có kiến nghị, đề xuất." in empty
