"""The quarterly compilation of members' opinions and proposals to the Standing Committee (DOCX): the
cases forwarded in the quarter with the club's recommendations by their Vietnamese names, and the
members' proposals not tied to a case, by topic; recorded over HTTP, never child data."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import docx

from devtools.waiting import eventually
from services.reporting import store
from services.reporting.documents import docx_markdown
from services.reporting.main import create_app
from services.reporting.settings import ReportingSettings
from shared.clock import FakeClock
from shared.events import Envelope
from shared.events.intake import CaseReported
from shared.events.routing import CaseForwarded
from tests.reporting.test_monthly_counts import publish
from tests.support.asgi import running
from tests.support.credentials import grant


def forwarded(code: str, at: datetime, level: str | None, referrals: tuple[str, ...]) -> list[Envelope]:
    case_id = uuid.uuid4()
    reported = CaseReported(
        case_id=case_id,
        code=code,
        unit="xa-long-thuan",
        category="online_harm",
        urgency="high",
        protection_level="support",
        reported_at=at,
    )
    sent = CaseForwarded(
        case_id=case_id, code=code, urgency="high", recommended_level=level, referrals=referrals, forwarded_at=at
    )
    return [Envelope.wrap(reported, producer="intake"), Envelope.wrap(sent, producer="routing")]


async def test_the_quarterly_compilation_lists_forwarded_cases_and_members_proposals_by_topic(base_env, monkeypatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CLUB_CHAIR_NAME", "Huỳnh Văn Đức")
    app = create_app(ReportingSettings(), clock=FakeClock(datetime(2026, 12, 28, 2, 0, tzinfo=UTC)))
    async with running(app) as client:
        sessions = app.state.runtime.sessions
        chair = await grant(sessions, store.credentials, "chair")
        member = await grant(sessions, store.credentials, "member", member_id=uuid.uuid4())
        events = forwarded("TN-2026-000101", datetime(2026, 11, 3, 3, 0, tzinfo=UTC), "intervention", ("police",))
        events += forwarded("TN-2026-000102", datetime(2026, 10, 20, 3, 0, tzinfo=UTC), "support", ("school",))
        events += forwarded("TN-2026-000050", datetime(2026, 9, 30, 3, 0, tzinfo=UTC), "support", ())  # quarter III
        await publish(base_env["RABBITMQ_URL"], base_env["BROKER_NAMESPACE"], events)
        proposal = {
            "topic_vi": "Phòng, chống xâm hại trẻ em trên môi trường mạng",
            "text_vi": "Đề nghị tổ chức tập huấn kỹ năng an toàn trên mạng cho học sinh trung học cơ sở",
            "proposed_by": "Lê Quang Minh (Sở Tư pháp)",
            "submitted_on": "2026-11-20",
        }
        created = await client.post("/v1/proposals", json=proposal, headers=member)
        assert created.status_code == 201, created.text
        later = {**proposal, "submitted_on": "2027-01-02"}
        refused = await client.post("/v1/proposals", json=later, headers={**member, "Accept-Language": "vi"})
        assert refused.status_code == 422 and refused.json()["detail"][0]["message"] == "Không được ở tương lai."
        child = await client.post("/v1/proposals", json={**proposal, "child_name": "Nguyễn Văn A"}, headers=member)
        assert child.status_code == 422
        assert (
            await client.post(
                "/v1/proposals", json=proposal, headers=await grant(sessions, store.credentials, "operator")
            )
        ).status_code == 403

        async def both_forwarded() -> bool:
            async with sessions() as session:
                rows = (
                    await session.execute(store.cases.select().where(store.cases.c.forwarded_at.is_not(None)))
                ).all()
            return len(rows) == 3

        await eventually(both_forwarded)
        response = await client.get("/v1/proposals/compilation", params={"quarter": "2026-Q4"}, headers=chair)
        assert response.status_code == 200
        text = docx_markdown(docx.Document(io.BytesIO(response.content)))
        assert (
            "Tổng hợp ý kiến, đề xuất của thành viên Câu lạc bộ tư vấn, giúp đỡ trẻ em tỉnh Tây Ninh quý IV/2026"
            in text
        )
        assert "Kính gửi: Ban Thường vụ Tỉnh đoàn Tây Ninh." in text
        assert "Số vụ việc đã chuyển ý kiến đề xuất: 2 (can thiệp: 1 và hỗ trợ: 1)." in text
        assert (
            "| TN-2026-000102 | Xâm hại trên không gian mạng | Xã Long Thuận | Cao | Hỗ trợ | Nhà trường | 20/10/2026 |"
            in text
        )
        assert "| Can thiệp | Cơ quan công an | 03/11/2026 |" in text
        assert "TN-2026-000050" not in text  # forwarded in quarter III
        assert "1. Phòng, chống xâm hại trẻ em trên môi trường mạng" in text
        assert "(Đồng chí Lê Quang Minh (Sở Tư pháp), ngày 20/11/2026)." in text
        # issued by the club, signed by its chair, sent to the Standing Committee (not signed on its behalf)
        assert "CÂU LẠC BỘ TƯ VẤN, GIÚP ĐỠ TRẺ EM TỈNH TÂY NINH" in text and "-BC/CLB" in text
        assert "TM. BAN CHỦ NHIỆM  \nCHỦ NHIỆM  \nHuỳnh Văn Đức" in text and "TM. BAN THƯỜNG VỤ" not in text
        assert "- Ban Thường vụ Tỉnh đoàn (để báo cáo);" in text
        assert "online_harm" not in text and "police" not in text
        bad = await client.get(
            "/v1/proposals/compilation", params={"quarter": "2026"}, headers={**chair, "Accept-Language": "vi"}
        )
        assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "query.quarter"
        listed = (await client.get("/v1/proposals", params={"quarter": "2026-Q4"}, headers=chair)).json()
        assert [p["proposed_by"] for p in listed] == ["Lê Quang Minh (Sở Tư pháp)"]
