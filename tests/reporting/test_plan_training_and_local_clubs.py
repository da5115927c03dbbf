"""Board training (tập huấn Ban Chủ nhiệm) and commune/ward-level clubs are activities of the plan tracker:
training fulfils the year's roadmap item; a local club names its unit and is listed in the tracker and
the review."""

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


async def test_board_training_fulfils_the_years_item_and_local_clubs_are_listed(base_env, monkeypatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    app = create_app(ReportingSettings(), clock=FakeClock(datetime(2026, 12, 20, 2, 0, tzinfo=UTC)))
    async with running(app) as client:
        chair = await grant(app.state.runtime.sessions, store.credentials, "chair")
        vi = {**chair, "Accept-Language": "vi"}
        tracker = (await client.get("/v1/plan", params={"period": "2026"}, headers=chair)).json()
        training = next(i for i in tracker["items"] if i["item_id"] == "2026-board_training")
        assert training["status"] == "due" and training["title_vi"] == "Tập huấn cho đội ngũ Ban Chủ nhiệm Câu lạc bộ"

        held = {
            "held_on": "2026-08-16",
            "kind": "board_training",
            "title_vi": "Tập huấn kỹ năng tư vấn cho đội ngũ Ban Chủ nhiệm",
            "participants": 25,
        }
        assert (await client.post("/v1/plan/activities", json=held, headers=vi)).status_code == 201
        club = {
            "held_on": "2026-09-06",
            "kind": "local_club",
            "title_vi": "Ra mắt Câu lạc bộ tư vấn, giúp đỡ trẻ em xã Long Thuận",
            "participants": 40,
        }
        nameless = await client.post("/v1/plan/activities", json=club, headers=vi)
        assert nameless.status_code == 422
        assert (
            nameless.json()["detail"][0]
            == {
                "field": "body.unit",
                "message": "Cần ghi rõ xã, phường của Câu lạc bộ.",
                "type": "missing",
            }
            or nameless.json()["detail"][0]["message"] == "Cần ghi rõ xã, phường của Câu lạc bộ."
        )
        unknown = await client.post("/v1/plan/activities", json={**club, "unit": "xa-khong-co"}, headers=vi)
        assert unknown.status_code == 422 and unknown.json()["detail"][0]["message"] == "Không có đơn vị này."
        assert (
            await client.post("/v1/plan/activities", json={**club, "unit": "xa-long-thuan"}, headers=vi)
        ).status_code == 201

        tracker = (await client.get("/v1/plan", params={"period": "2026"}, headers=chair)).json()
        training = next(i for i in tracker["items"] if i["item_id"] == "2026-board_training")
        assert training["status"] == "done" and training["held_on"] == "2026-08-16"
        assert [(c["unit"], c["first_on"]) for c in tracker["local_clubs"]] == [("xa-long-thuan", "2026-09-06")]
        earlier = (await client.get("/v1/plan", params={"period": "2025"}, headers=chair)).json()
        assert next(i for i in earlier["items"] if i["item_id"] == "2025-board_training")["status"] == "overdue"

        review = await client.get("/v1/reports/review", params={"kind": "annual", "year": 2026}, headers=chair)
        text = docx_markdown(docx.Document(io.BytesIO(review.content)))
        assert "(Tập huấn Ban Chủ nhiệm, 25 người tham dự)" in text
        assert "| 2026 | Tập huấn cho đội ngũ Ban Chủ nhiệm Câu lạc bộ | 31/12/2026 | Đã thực hiện |" in text
        assert "Số Câu lạc bộ cấp xã, phường đang hoạt động: 1 (Xã Long Thuận, từ ngày 06/09/2026)." in text
