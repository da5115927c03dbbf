"""Pure rules of reporting: how periods are written and read, how the 2025 roll-up attributes figures, and
when a plan item is done, due or overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.reporting.domain import Month, PeriodError, kept_keys, month_key, parse_period
from services.reporting.figures import roll_up
from services.reporting.plan import board_meetings, club_meetings, item_status
from services.reporting.scheduler import report_due_on


@pytest.mark.parametrize(
    ("text", "first", "last", "label_vi"),
    [
        ("2025-07", "2025-07", "2025-07", "tháng 7/2025"),
        ("2025-Q3", "2025-07", "2025-09", "quý III/2025"),
        ("2025", "2025-01", "2025-12", "năm 2025"),
        ("2023..2025", "2023-01", "2025-12", "giai đoạn 2023–2025"),
        ("2023-01..2027-12", "2023-01", "2027-12", "giai đoạn 2023–2027"),
        ("2025-Q1..2025-05", "2025-01", "2025-05", "từ tháng 1/2025 đến tháng 5/2025"),
    ],
)
def test_a_period_is_a_closed_range_of_months_named_the_vietnamese_way(text, first, last, label_vi):
    period = parse_period(text)
    assert (period.first_key, period.last_key, period.label_vi) == (first, last, label_vi)
    assert (
        len(period.months()) == (period.last.year - period.first.year) * 12 + period.last.month - period.first.month + 1
    )


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("2025-07", ["2025-07"]),
        ("2025-Q3", ["2025-Q3"]),
        ("2025", ["2025"]),
        ("2025-Q1..2025-05", ["2025-Q1", "2025-04", "2025-05"]),
        ("2024-11..2026-08", ["2024-11", "2024-12", "2025", "2026-Q1", "2026-Q2", "2026-07", "2026-08"]),
        ("2025-02..2025-12", ["2025-02", "2025-03", "2025-Q2", "2025-Q3", "2025-Q4"]),
    ],
)
def test_a_period_is_read_as_its_whole_years_then_whole_quarters_then_months(text, keys):
    assert parse_period(text).keys() == keys


def test_a_month_is_kept_under_its_quarter_and_year():
    assert kept_keys("2026-08") == ("2026-08", "2026-Q3", "2026")
    assert [kept_keys(f"2025-{m:02d}")[1] for m in range(1, 13)] == [f"2025-Q{(m + 2) // 3}" for m in range(1, 13)]


@pytest.mark.parametrize("text", ["2025-13", "2025-Q5", "25", "2025..2024", "2025-07-01", "", "1999"])
def test_malformed_or_backwards_periods_are_refused(text):
    with pytest.raises(PeriodError):
        parse_period(text)


def test_a_moment_belongs_to_its_month_in_vietnamese_time():
    assert month_key(datetime(2025, 6, 30, 17, 0, tzinfo=UTC)) == "2025-07"
    assert month_key(datetime(2025, 6, 30, 16, 59, tzinfo=UTC)) == "2025-06"
    assert Month(2025, 12).next() == Month(2026, 1) and Month(2026, 1).previous() == Month(2025, 12)
    assert report_due_on(Month(2025, 12), 5) == date(2026, 1, 5)


def test_roll_up_splits_an_ended_unit_equally_among_successors_and_keeps_the_total():
    rows = [dict(unit="ben-cau", cases=3), dict(unit="xa-long-thuan", cases=2), dict(unit="tay-ninh", cases=1)]
    mapping = {"ben-cau": ["xa-long-chu", "xa-long-thuan", "xa-ben-cau"], "tay-ninh": ["phuong-tan-ninh"]}
    rolled = {r["unit"]: (r["cases"], r["approximate"]) for r in roll_up(rows, mapping, ("cases",))}
    assert rolled == {
        "xa-long-chu": (1, True),
        "xa-long-thuan": (3, True),
        "xa-ben-cau": (1, True),
        "phuong-tan-ninh": (1, True),
    }
    assert sum(v for v, _ in rolled.values()) == 6


def test_plan_status_and_meeting_cadence():
    assert item_status(False, date(2025, 3, 31), date(2025, 3, 31)) == "due"
    assert item_status(False, date(2025, 3, 31), date(2025, 4, 1)) == "overdue"
    assert item_status(True, date(2025, 3, 31), date(2026, 1, 1)) == "done"
    held = [
        dict(kind="board_meeting", held_on=date(2025, 3, 2)),
        dict(kind="board_meeting", held_on=date(2025, 5, 30)),
        dict(kind="club_meeting", held_on=date(2025, 1, 9)),
        dict(kind="club_meeting", held_on=date(2025, 9, 9)),
    ]
    quarters = [q["status"] for q in board_meetings(held, [2025], date(2025, 8, 1))]
    assert quarters == ["done", "overdue", "due", "due"]  # May is not the last month of Q2
    assert club_meetings(held, [2025], date(2025, 8, 1))[0]["status"] == "done"
    assert club_meetings(held[:3], [2025], date(2026, 1, 1))[0]["status"] == "overdue"
