"""Support to the provincial Children's Council: its requests, the club's advice and follow-up, counted in
the reviews and fulfilling the year's roadmap item."""

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


async def test_the_councils_requests_the_clubs_advice_and_follow_up_are_counted_in_the_review(base_env, monkeypatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    app = create_app(ReportingSettings(), clock=FakeClock(datetime(2026, 12, 20, 2, 0, tzinfo=UTC)))
    async with running(app) as client:
        sessions = app.state.runtime.sessions
        chair = await grant(sessions, store.credentials, "chair")
        vi = {**chair, "Accept-Language": "vi"}
        plan = (await client.get("/v1/plan", params={"period": "2026"}, headers=chair)).json()
        support = next(i for i in plan["items"] if i["item_id"] == "2026-children_council_support")
        assert support["status"] == "due"

        asked = await client.post(
            "/v1/council/requests",
            json={"received_on": "2026-03-10", "subject_vi": "Góp ý nội dung Diễn đàn trẻ em tỉnh năm 2026"},
            headers=vi,
        )
        assert asked.status_code == 201
        url = f"/v1/council/requests/{asked.json()['request_id']}"
        early = await client.post(f"{url}/follow-ups", json={"on": "2026-03-12", "note_vi": "Đôn đốc"}, headers=vi)
        assert (
            early.status_code == 409
            and early.json()["message"]["vi"] == "Cần ghi nhận ý kiến tư vấn của Câu lạc bộ trước."
        )
        advice = {
            "advised_on": "2026-03-24",
            "advice_vi": "Bổ sung phần hỏi đáp với chuyên gia tâm lý",
            "advised_by": "Võ Thị Mai",
        }
        before = await client.post(f"{url}/advice", json={**advice, "advised_on": "2026-03-01"}, headers=vi)
        assert (
            before.status_code == 422 and before.json()["detail"][0]["message"] == "Không được trước ngày nhận đề nghị."
        )
        assert (await client.post(f"{url}/advice", json=advice, headers=vi)).status_code == 200
        assert (await client.post(f"{url}/advice", json=advice, headers=vi)).status_code == 409
        followed = await client.post(
            f"{url}/follow-ups", json={"on": "2026-06-02", "note_vi": "Diễn đàn đã có phần hỏi đáp"}, headers=vi
        )
        assert followed.status_code == 201 and len(followed.json()["follow_ups"]) == 1
        waiting = {"received_on": "2026-11-18", "subject_vi": "Tư vấn kiến nghị của trẻ em về an toàn trên mạng"}
        assert (await client.post("/v1/council/requests", json=waiting, headers=vi)).status_code == 201
        missing = await client.post(
            "/v1/council/requests/00000000-0000-0000-0000-000000000001/advice", json=advice, headers=vi
        )
        assert (
            missing.status_code == 404
            and missing.json()["message"]["vi"] == "Không có đề nghị này của Hội đồng trẻ em."
        )
        operator = await grant(sessions, store.credentials, "operator")
        assert (await client.post("/v1/council/requests", json=waiting, headers=operator)).status_code == 403

        summary = (await client.get("/v1/reports/summary", params={"period": "2026"}, headers=chair)).json()
        assert summary["council"] == {"requests": 2, "advised": 1, "followed_up": 1, "waiting": 1, "follow_ups": 1}
        plan = (await client.get("/v1/plan", params={"period": "2026"}, headers=chair)).json()
        support = next(i for i in plan["items"] if i["item_id"] == "2026-children_council_support")
        assert support["status"] == "done" and support["held_on"] == "2026-03-24"

        review = await client.get("/v1/reports/review", params={"kind": "annual", "year": 2026}, headers=chair)
        text = docx_markdown(docx.Document(io.BytesIO(review.content)))
        assert "V. HỖ TRỢ, TƯ VẤN CHO HỘI ĐỒNG TRẺ EM TỈNH" in text
        assert (
            "Hội đồng trẻ em tỉnh đề nghị Câu lạc bộ hỗ trợ, tư vấn: 2 lượt; Câu lạc bộ đã tư vấn: 1 lượt; "
            "đã theo dõi, đôn đốc việc thực hiện: 1 lượt; đang chuẩn bị ý kiến: 1 lượt." in text
        )
        assert "Ngày 24/03/2026, Câu lạc bộ tư vấn (đồng chí Võ Thị Mai): Bổ sung phần hỏi đáp" in text
        assert "Theo dõi ngày 02/06/2026: Diễn đàn đã có phần hỏi đáp." in text
