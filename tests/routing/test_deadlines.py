"""Deadlines: working days skip weekends and Vietnamese public holidays (Tết included); escalation ladders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.routing.deadlines import VN, add_working_days, is_working_day, ladder


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN)


def test_five_working_days_from_the_eve_of_tet_2027_skip_the_whole_holiday_and_the_weekend():
    # Tết Đinh Mùi: holidays 4–10 Feb 2027 (Thu–Wed), 6–7 Feb also a weekend.
    assert add_working_days(vn(2027, 2, 3, 10, 0), 5) == vn(2027, 2, 17, 10, 0)


def test_a_case_reported_during_tet_counts_from_the_first_working_day_after_it():
    assert add_working_days(vn(2027, 2, 6, 9, 30), 1) == vn(2027, 2, 11, 9, 30)


def test_five_working_days_from_a_friday_land_on_the_next_friday():
    assert add_working_days(vn(2026, 12, 4, 16, 0), 5) == vn(2026, 12, 11, 16, 0)


def test_a_saturday_report_counts_from_monday():
    assert add_working_days(vn(2026, 12, 5, 8, 0), 5) == vn(2026, 12, 11, 8, 0)


def test_working_days_follow_the_vietnamese_date_not_utc():
    # 18:00 UTC on Friday is already Saturday 01:00 in Vietnam.
    late_friday_utc = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
    assert add_working_days(late_friday_utc, 1) == vn(2026, 12, 7, 1, 0)


def test_national_day_and_reunification_day_are_not_working_days():
    assert not is_working_day(vn(2027, 9, 2).date())
    assert not is_working_day(vn(2027, 4, 30).date())
    assert is_working_day(vn(2027, 4, 29).date())


def test_the_acceptance_ladder_reminds_at_the_deadline_then_escalates_one_window_apart():
    due = vn(2026, 12, 1, 9, 0)
    steps = ladder("acceptance", due, timedelta(hours=4))
    assert [(t.stage, t.fire_at) for t in steps] == [
        ("reminder", due),
        ("chair", due + timedelta(hours=4)),
        ("committee", due + timedelta(hours=8)),
    ]


def test_the_support_plan_ladder_escalates_one_working_day_apart_across_a_weekend():
    due = vn(2026, 12, 4, 10, 0)  # a Friday
    assert [t.fire_at for t in ladder("support_plan", due)] == [due, vn(2026, 12, 7, 10, 0), vn(2026, 12, 8, 10, 0)]
