"""Deadlines and the escalation ladder, without I/O.

- Acceptance: per urgency (settings; 1 h / 4 h / 24 h / 72 h by default).
- Emergency intervention (critical cases): 12 hours from receiving the information (Decree 56).
- Support/intervention plan (cases at the support or intervention level): 5 working days (Decree 56).
  Working days come from the `holidays` library's Vietnamese calendar: weekends and public holidays
  (Tết included) are skipped, days off swapped by the government are skipped, and the Saturdays
  worked in exchange (2024-05-04, 2025-04-26, 2026-08-22 ...) count as working days. The deadline
  falls at the same local time of day on the last working day counted. For 2020–2040 the calendar is read
  from `vn_calendar.py`, written from the library by `python -m scripts.vn_calendar` (importing the library
  loads every country's calendar, ~16 MiB per process); other years ask the library itself.

When a deadline passes, three timers fire one after another: a reminder to whoever holds it, then an
escalation to the chair, then to the Standing Committee. The step between them is the deadline's own
window for acceptance, a setting for the emergency limit, and one working day for the support plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from services.routing import vn_calendar

VN = ZoneInfo("Asia/Ho_Chi_Minh")
STAGES = ("reminder", "chair", "committee")


@cache
def _library_calendar() -> Any:
    import holidays

    return holidays.country_holidays("VN")


def is_working_day(day: date) -> bool:
    """A Vietnamese working day: the library knows the weekend, the holidays, the swapped days off
    (`special_public_holidays`) and the make-up working Saturdays (`weekend_workdays`)."""
    if vn_calendar.FIRST_YEAR <= day.year <= vn_calendar.LAST_YEAR:
        return (day.weekday() < 5) != (day in vn_calendar.EXCEPTIONS)
    return bool(_library_calendar().is_working_day(day))


def add_working_days(start: datetime, days: int) -> datetime:
    """`days` working days after `start`'s local (Vietnam) date, at the same local time of day.

    A report on a Saturday or during Tết starts counting at the next working day.
    """
    local = start.astimezone(VN)
    day = local.date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return datetime.combine(day, local.timetz()).astimezone(start.tzinfo)


@dataclass(frozen=True)
class PlannedTimer:
    deadline: str
    stage: str
    due_at: datetime
    fire_at: datetime


def ladder(deadline: str, due_at: datetime, step: timedelta | None = None) -> list[PlannedTimer]:
    """The reminder at the deadline, then the chair and the committee one `step` apart each
    (`step=None`: one working day apart)."""
    timers = []
    for index, stage in enumerate(STAGES):
        # Zero working days after the deadline is the deadline itself.
        fire_at = add_working_days(due_at, index) if step is None else due_at + step * index
        timers.append(PlannedTimer(deadline, stage, due_at, fire_at))
    return timers


def needs_support_plan(protection_level: str) -> bool:
    return protection_level in ("support", "intervention")
