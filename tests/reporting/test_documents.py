"""The reviews (DOCX) as a Vietnamese officer reads them: years as 2025, special-circumstance groups by
name, the date line of Decree 30/2020, signer from settings, a "Nơi nhận" without the signer, Vietnamese
names instead of codes, and minors of 16–17 counted apart from children; the same from the events over HTTP.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime

import docx

from devtools.waiting import eventually
from services.reporting import store
from services.reporting.documents import ReviewData, Signing, docx_markdown, place_date, render_review, review_kind
from services.reporting.domain import parse_period
from services.reporting.main import create_app
from services.reporting.settings import ReportingSettings
from shared.clock import FakeClock
from shared.events import Envelope
from shared.events.intake import CaseReported, CaseReportedV1
from shared.events.routing import CaseReferred, ReferralAcknowledged
from tests.reporting.test_monthly_counts import publish
from tests.support.asgi import running
from tests.support.credentials import grant

SIGNING = Signing(
    club_name="Câu lạc bộ tư vấn, giúp đỡ trẻ em tỉnh Tây Ninh",
    signer_title="Phó Bí thư",
    signer_name="Trịnh Thị Như Trang",
    recipients=("Ban Thường vụ Tỉnh đoàn", "Ban Dân vận Tỉnh ủy", "Thành viên Câu lạc bộ", "Lưu VT, TTNTH"),
)


def test_the_date_line_has_a_leading_zero_only_for_days_below_10_and_months_1_and_2():
    assert place_date(date(2026, 11, 29)) == "Tây Ninh, ngày 29 tháng 11 năm 2026"
    assert place_date(date(2026, 2, 5)) == "Tây Ninh, ngày 05 tháng 02 năm 2026"
    assert place_date(date(2026, 1, 20)) == "Tây Ninh, ngày 20 tháng 01 năm 2026"
    assert place_date(date(2026, 3, 1)) == "Tây Ninh, ngày 01 tháng 3 năm 2026"
    assert place_date(date(2025, 12, 9)) == "Tây Ninh, ngày 09 tháng 12 năm 2025"


def sample_review() -> ReviewData:
    period = parse_period("2025")
    summary = {
        "cases": {
            "total": 1234,
            "by_unit": {"ben-cau": 1000, "xa-ben-cau": 234},
            "by_category": {"online_harm": 1200, "sexual_abuse": 34},
            "by_urgency": {"critical": 34, "high": 1200},
            "by_status": {"closed": 1234},
        },
        "special_groups": [{"unit": "ben-cau", "grp": "a", "cases": 2}, {"unit": "xa-ben-cau", "grp": "đ", "cases": 1}],
        "age_bands": {"11-15": 7, "16-17": 3, "unknown": 1},
        "below_suggested_urgency": 2,
        "referrals": [{"to": "commune_child_protection_officer", "referrals": 3, "acknowledged": 2}],
        "timings": [],
        "breaches": [],
        "counseling": [{"topic": "free", "channel": "zalo", "requests": 4, "answered": 3}],
        "completeness": {
            "total": {"expected": 12, "received": 12, "rate": 100.0, "on_time": 11, "late": 1, "missing": 0},
            "rows": [],
        },
        "unit_reports": [],
    }
    tracker = {
        "counts": {"done": 1, "due": 0, "overdue": 0},
        "items": [
            {
                "year": 2025,
                "title_vi": "Sơ kết 03 năm hoạt động",
                "due_on": date(2025, 12, 31),
                "status": "done",
            }
        ],
        "board_meetings": [],
        "club_meetings": [],
        "activities": [],
    }
    return ReviewData(
        kind=review_kind("annual", 2025, SIGNING.club_name),
        period=period,
        today=date(2026, 1, 5),
        summary=summary,
        tracker=tracker,
        unit_names={"ben-cau": "Huyện Bến Cầu", "xa-ben-cau": "Xã Bến Cầu"},
        category_names={"online_harm": "Xâm hại trên không gian mạng", "sexual_abuse": "Xâm hại tình dục"},
        group_names={"a": "Trẻ em mồ côi cả cha và mẹ", "đ": "Trẻ em nhiễm HIV/AIDS"},
        number="12",
        signing=SIGNING,
    )


def test_a_review_reads_as_a_vietnamese_report_without_codes():
    text = docx_markdown(render_review(sample_review()))
    assert "Tây Ninh, ngày 05 tháng 01 năm 2026" in text
    assert "Sơ kết hoạt động Câu lạc bộ tư vấn, giúp đỡ trẻ em tỉnh Tây Ninh năm 2025" in text
    assert "| 2025 | Sơ kết 03 năm hoạt động |" in text and "2.025" not in text
    assert "1.234 vụ việc" in text  # counts keep the thousands separator
    assert "| a) Trẻ em mồ côi cả cha và mẹ | 2 |" in text and "| đ) Trẻ em nhiễm HIV/AIDS | 1 |" in text
    assert "| Xâm hại trên không gian mạng | 1.200 |" in text and "online_harm" not in text
    assert "Chủ đề khác (người hỏi không chọn chủ đề)" in text and "| free |" not in text
    assert "| Trẻ em (dưới 16 tuổi) | 7 |" in text
    assert "| Người chưa thành niên từ đủ 16 đến dưới 18 tuổi | 3 |" in text
    assert "| Không rõ tuổi | 1 |" in text
    assert "thấp hơn mức đề xuất (có nêu lý do): 2." in text
    assert "| Công chức làm công tác bảo vệ trẻ em cấp xã | 3 | 2 |" in text
    signature = text[text.index("Nơi nhận:") :]
    assert "TM. BAN THƯỜNG VỤ TỈNH ĐOÀN" in signature and "PHÓ BÍ THƯ" in signature
    assert "Trịnh Thị Như Trang" in signature
    assert "Ban Thường vụ Tỉnh đoàn;" not in signature  # not sent to its own signer
    assert "- Ban Dân vận Tỉnh ủy;" in signature and "- Lưu VT, TTNTH." in signature


def case(age_band: str, urgency: str = "high", suggested: str | None = None) -> Envelope:
    event = CaseReported(
        case_id=uuid.uuid4(),
        code="TN-2025-000001",
        unit="xa-ben-cau",
        category="sexual_abuse" if suggested else "online_harm",
        urgency=urgency,
        protection_level="support",
        age_band=age_band,
        reported_at=datetime(2025, 9, 10, 3, 0, tzinfo=UTC),
        suggested_urgency=suggested,
    )
    return Envelope.wrap(event, producer="intake")


def version_1(age_band: str) -> Envelope:
    """A `case.reported` published before version 2 (no urgency floor) still counts."""
    event = CaseReportedV1(
        case_id=uuid.uuid4(),
        code="TN-2025-000002",
        unit="xa-ben-cau",
        category="neglect",
        urgency="medium",
        protection_level="support",
        age_band=age_band,
        reported_at=datetime(2025, 9, 11, 3, 0, tzinfo=UTC),
    )
    return Envelope.wrap(event, producer="intake")


def referral_events() -> list[Envelope]:
    case_id, at = uuid.uuid4(), datetime(2025, 9, 10, 5, 0, tzinfo=UTC)
    common = dict(case_id=case_id, code="TN-2025-000001", unit="xa-ben-cau")
    to_commune = CaseReferred(
        referral_id=uuid.uuid4(), **common, urgency="critical", to="commune_committee", referred_at=at
    )
    to_school = CaseReferred(referral_id=uuid.uuid4(), **common, urgency="critical", to="school", referred_at=at)
    acknowledged = ReferralAcknowledged(
        referral_id=to_commune.referral_id, **common, to="commune_committee", referred_at=at, acknowledged_at=at
    )
    return [Envelope.wrap(e, producer="routing") for e in (to_commune, to_school, acknowledged)]


async def test_minors_of_16_and_17_are_counted_apart_and_the_review_uses_the_settings(base_env, monkeypatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DOCUMENT_SIGNER_NAME", "Trịnh Thị Như Trang")
    monkeypatch.setenv("CLUB_NAME", "Câu lạc bộ tư vấn, giúp đỡ trẻ em tỉnh Tây Ninh")
    app = create_app(ReportingSettings(), clock=FakeClock(datetime(2026, 2, 5, 2, 0, tzinfo=UTC)))
    async with running(app) as client:
        chair = await grant(app.state.runtime.sessions, store.credentials, "chair")
        events = [case("11-15"), case("16-17"), case("16-17", "high", "critical"), case("0-5"), version_1("16-17")]
        events += referral_events()
        await publish(base_env["RABBITMQ_URL"], base_env["BROKER_NAMESPACE"], events)

        async def ages() -> dict:
            body = (await client.get("/v1/reports/ages", params={"period": "2025"}, headers=chair)).json()
            return body if sum(body.values()) == 5 else {}

        assert await eventually(ages) == {"0-5": 1, "11-15": 1, "16-17": 3}

        async def referrals() -> list:
            body = (await client.get("/v1/reports/referrals", params={"period": "2025"}, headers=chair)).json()
            return body if sum(r["acknowledged"] for r in body) == 1 else []

        assert await eventually(referrals) == [
            {"to": "commune_committee", "referrals": 1, "acknowledged": 1},
            {"to": "school", "referrals": 1, "acknowledged": 0},
        ]
        summary = (await client.get("/v1/reports/summary", params={"period": "2025"}, headers=chair)).json()
        assert summary["below_suggested_urgency"] == 1

        response = await client.get("/v1/reports/review", params={"kind": "annual", "year": 2025}, headers=chair)
        text = docx_markdown(docx.Document(io.BytesIO(response.content)))
        assert "Tây Ninh, ngày 05 tháng 02 năm 2026" in text
        assert "| Trẻ em (dưới 16 tuổi) | 2 |" in text
        assert "| Người chưa thành niên từ đủ 16 đến dưới 18 tuổi | 3 |" in text
        assert "Trịnh Thị Như Trang" in text and "PHÓ BÍ THƯ" in text
        assert "| Ủy ban nhân dân cấp xã | 1 | 1 |" in text and "| Nhà trường | 1 | 0 |" in text
        assert "Ban Thường vụ Tỉnh đoàn;" not in text[text.index("Nơi nhận:") :]
        sheet = await client.get("/v1/reports/export/ages", params={"period": "2025", "format": "csv"}, headers=chair)
        assert "Người chưa thành niên từ đủ 16 đến dưới 18 tuổi,3" in sheet.content.decode("utf-8-sig")
