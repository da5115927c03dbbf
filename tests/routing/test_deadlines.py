"""Deadlines: working days skip weekends and Vietnamese public holidays (Tết included); escalation ladders."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from scripts.vn_calendar import exceptions
from services.routing import vn_calendar
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


def test_make_up_saturdays_are_working_days_and_the_swapped_days_off_are_not():
    # The government swaps days around 30/4–1/5 and 2/9: a Saturday is worked for a weekday off.
    for saturday, day_off in [("2024-05-04", "2024-04-29"), ("2025-04-26", "2025-05-02"), ("2026-08-22", "2026-08-31")]:
        assert date.fromisoformat(saturday).weekday() == 5
        assert is_working_day(date.fromisoformat(saturday)), saturday
        assert not is_working_day(date.fromisoformat(day_off)), day_off


def test_an_ordinary_weekend_is_not_a_working_day():
    assert not is_working_day(date(2026, 8, 29))  # Saturday
    assert not is_working_day(date(2026, 8, 23))  # the Sunday after the make-up Saturday


def test_tet_2026_is_not_worked():
    # Tết Bính Ngọ: 17 Feb 2026 is the first day of the lunar year.
    assert not any(is_working_day(date(2026, 2, day)) for day in range(16, 21))
    assert is_working_day(date(2026, 2, 23))


def test_five_working_days_count_the_make_up_saturday_and_skip_the_swapped_day_off_in_2026():
    # Thu 20/8 → Fri 21, Sat 22 (make-up), Mon 24, Tue 25, Wed 26.
    assert add_working_days(vn(2026, 8, 20, 9, 0), 5) == vn(2026, 8, 26, 9, 0)
    # Fri 28/8 → Mon 31 (day off, swapped), Tue 1/9 and Wed 2/9 (National Day) are skipped: Thu 3/9.
    assert add_working_days(vn(2026, 8, 28, 9, 0), 1) == vn(2026, 9, 3, 9, 0)


def test_the_2025_make_up_saturday_counts_and_the_2_may_day_off_does_not():
    # Fri 25/4/2025 → Sat 26 (worked), then 28, 29 April; 30/4, 1/5, 2/5 off, weekend: Mon 5/5.
    assert add_working_days(vn(2025, 4, 25, 8, 0), 3) == vn(2025, 4, 29, 8, 0)
    assert add_working_days(vn(2025, 4, 25, 8, 0), 4) == vn(2025, 5, 5, 8, 0)


def test_the_2024_make_up_saturday_counts():
    # Fri 3/5/2024 → Sat 4/5 (worked, in exchange for Mon 29/4).
    assert add_working_days(vn(2024, 5, 3, 8, 0), 1) == vn(2024, 5, 4, 8, 0)
    assert add_working_days(vn(2024, 4, 26, 8, 0), 1) == vn(2024, 5, 2, 8, 0)


def test_the_stored_calendar_is_the_librarys_for_every_day_of_its_years():
    # A library upgrade with new swapped days fails here: `python -m scripts.vn_calendar` writes the table again.
    assert sorted(vn_calendar.EXCEPTIONS) == exceptions(vn_calendar.FIRST_YEAR, vn_calendar.LAST_YEAR)


def test_a_year_beyond_the_stored_calendar_asks_the_library():
    assert not is_working_day(date(2041, 1, 1))  # New Year's Day, a Tuesday
    assert is_working_day(date(2041, 1, 2))
