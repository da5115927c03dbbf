"""The rules of the chair's pages without a server: the suggestion's reasons in words, the draft proposal,
the month calendar of who is away, the member form's own checks, dates as documents write them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from starlette.datastructures import FormData

from services.web import domain

NOW = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)  # 10:00 in Tây Ninh


def test_time_left_and_overdue_read_as_the_chair_expects():
    assert domain.time_left("2026-11-10T06:20:00+00:00", NOW) == "còn 3 giờ 20 phút"
    assert domain.time_left("2026-11-10T01:00:00+00:00", NOW) == "quá hạn 2 giờ 0 phút"
    assert domain.overdue("2026-11-10T01:00:00+00:00", NOW) and not domain.overdue(None, NOW)
    assert domain.long_date("2026-11-09T18:00:00+00:00") == "ngày 10 tháng 11 năm 2026"


def test_the_suggestion_says_field_unit_and_load():
    reasons = domain.suggestion_reasons(
        {"field": "psychology", "covers_unit": True, "load": 2, "capacity": 5, "available": True, "eligible": True}
    )
    assert reasons == ["lĩnh vực tâm lý", "phụ trách đơn vị của vụ việc", "đang xử lý 2/5 việc"]
    away = domain.suggestion_reasons({"field": "law", "load": 0, "capacity": 5, "available": False})
    assert "đang nghỉ hoặc ngoài thời gian hoạt động" in away and "không phụ trách đơn vị này" in away
    full = domain.suggestion_reasons({"field": "law", "load": 5, "capacity": 5, "available": True})
    assert full[-1] == "đã đủ số việc tối đa"


def test_the_draft_proposal_names_each_opinions_author_and_the_strongest_level_wins():
    opinions = [
        {"member_id": "m1", "text": " Khám y tế. ", "recommended_level": "support"},
        {"member_id": "m2", "text": "Báo công an.", "recommended_level": "intervention"},
    ]
    draft = domain.compile_opinions(opinions, {"m1": "Hà"})
    assert "- Ý kiến của đồng chí Hà: Khám y tế." in draft and "đồng chí thành viên: Báo công an." in draft
    assert draft.endswith("Đề xuất của Chủ nhiệm:\n")
    assert domain.compile_opinions([], {}) == ""
    assert domain.strongest_level(opinions) == "intervention" and domain.strongest_level([]) is None


def test_the_calendar_shows_who_is_away_on_which_day_of_the_month():
    members = [
        {
            "member_id": "1",
            "display_name": "Yến",
            "leave_periods": [{"starts_on": "2026-10-30", "ends_on": "2026-11-02"}],
        },
        {"member_id": "2", "display_name": "An", "leave_periods": [], "active_to": "2026-11-28"},
        {
            "member_id": "3",
            "display_name": "Bình",
            "leave_periods": [{"starts_on": "2026-12-01", "ends_on": "2026-12-02"}],
        },
    ]
    days, away = domain.away_calendar(date(2026, 11, 1), members)
    assert len(days) == 30 and [row.name for row in away] == ["An", "Yến"]
    assert [i + 1 for i, off in enumerate(away[1].days) if off] == [1, 2]
    assert [i + 1 for i, off in enumerate(away[0].days) if off] == [29, 30]
    assert domain.month_of("2026-13", date(2026, 11, 10)) == date(2026, 11, 1)
    assert domain.shift_month(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert domain.shift_month(date(2026, 1, 1), -1) == date(2025, 12, 1)


def test_the_member_form_checks_pairs_and_numbers_before_sending():
    current = {"key": "bs-an", "leave_periods": [{"starts_on": "2026-11-23", "ends_on": "2026-11-27"}]}
    form = FormData(
        [
            ("display_name", "Trần Văn An"),
            ("organisation", "Sở Y tế"),
            ("organisation_kind", "department"),
            ("club_role", "member"),
            ("fields", "medicine"),
            ("channels", "email"),
            ("email", ""),
            ("capacity", "hai"),
            ("quiet_start", "21:30"),
            ("leave_starts_on", "2026-12-05"),
            ("leave_ends_on", "2026-12-01"),
            ("remove_leave", "0"),
        ]
    )
    body, errors = domain.member_body(current, form)
    assert set(errors) == {"capacity", "quiet_end", "email", "leave_ends_on"}
    assert body["key"] == "bs-an" and body["leave_periods"] == [] and body["fields"] == ["medicine"]
    fixed = FormData([*form.multi_items()[:6], ("email", "an@club.example"), ("capacity", "2")])
    body, errors = domain.member_body(current, fixed)
    assert errors == {} and body["capacity"] == 2 and body["leave_periods"] == current["leave_periods"]
    assert domain.shown_value([{"starts_on": "2026-11-16", "ends_on": "2026-11-20"}]) == "16/11/2026–20/11/2026"
    assert domain.shown_value(["law", "psychology"]) == "law, psychology" and domain.shown_value(None) == "—"
