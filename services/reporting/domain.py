"""Reporting periods: a month, a quarter, a year or any range of months, written the way people ask.

Accepted forms: `2025-07` (month), `2025-Q3` (quarter), `2025` (year), and ranges of any of these with
`..` (`2023..2025`, `2023-01..2025-06`, `2025-Q1..2025-Q2`). A period is always a whole number of
months; tables key figures by month (`YYYY-MM`), so a period is the closed range `[first, last]` of
month keys, which compares correctly as text.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")

# Matched whole (`fullmatch`) with ASCII digits: `$` alone lets a trailing newline through, and `\d` takes
# any script's digits; the period's text ends up in a Content-Disposition header.
_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
_QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")
_YEAR = re.compile(r"([0-9]{4})")
ROMAN = ("I", "II", "III", "IV")
PERIOD_PATTERN = r"^[0-9]{4}(-(0[1-9]|1[0-2]|Q[1-4]))?(\.\.[0-9]{4}(-(0[1-9]|1[0-2]|Q[1-4]))?)?$"


class PeriodError(ValueError):
    """The text is not a period this service understands."""


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def quarter(self) -> int:
        return (self.month - 1) // 3 + 1

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), 12 if self.month == 1 else self.month - 1)

    @classmethod
    def of(cls, moment: datetime | date) -> Month:
        """The month of a moment in Vietnamese local time (a date is taken as it is)."""
        if isinstance(moment, datetime):
            moment = moment.astimezone(VN).date()
        return cls(moment.year, moment.month)

    @classmethod
    def parse(cls, key: str) -> Month:
        match = _MONTH.fullmatch(key)
        if not match:
            raise PeriodError(f"not a month: {key!r}")
        return cls(int(match[1]), int(match[2]))


def month_key(moment: datetime) -> str:
    """`YYYY-MM` of a moment in Vietnamese local time: what every figure is keyed by."""
    return Month.of(moment).key


def quarter_key(year: int, quarter: int) -> str:
    """The key totals are kept under for a quarter: (2026, 3) → "2026-Q3"."""
    return f"{year:04d}-Q{quarter}"


def kept_keys(month: str) -> tuple[str, str, str]:
    """The keys a month's figure is also kept under where totals are kept by month, quarter and year
    (`case_totals`, `stage_timings`): "2026-08" → ("2026-08", "2026-Q3", "2026")."""
    m = Month(int(month[:4]), int(month[5:7]))
    return month, quarter_key(m.year, m.quarter), month[:4]


@dataclass(frozen=True)
class Period:
    first: Month
    last: Month
    label: str

    @property
    def first_key(self) -> str:
        return self.first.key

    @property
    def last_key(self) -> str:
        return self.last.key

    @property
    def start(self) -> date:
        return self.first.first_day

    @property
    def end(self) -> date:
        return self.last.last_day

    def months(self) -> list[Month]:
        out, month = [], self.first
        while month <= self.last:
            out.append(month)
            month = month.next()
        return out

    def years(self) -> list[int]:
        return list(range(self.first.year, self.last.year + 1))

    def keys(self) -> list[str]:
        """The period as its whole years ("2026"), its other whole quarters ("2027-Q1") and its other months
        ("2027-04"): the keys of the counters kept by month, quarter and year (`kept_keys`), so that five years
        are read as five rows per figure and a quarter as one."""
        out: list[str] = []
        for year in self.years():
            months = [m for m in self.months() if m.year == year]
            if len(months) == 12:
                out.append(str(year))
                continue
            for quarter in range(1, 5):
                in_quarter = [m.key for m in months if m.quarter == quarter]
                out.extend([quarter_key(year, quarter)] if len(in_quarter) == 3 else in_quarter)
        return out

    @property
    def label_vi(self) -> str:
        """How a Vietnamese report names the period (tháng 7/2025, quý III/2025, năm 2025, 2023–2025)."""
        if self.first == self.last:
            return f"tháng {self.first.month}/{self.first.year}"
        if self.first.month == 1 and self.last.month == 12:
            if self.first.year == self.last.year:
                return f"năm {self.first.year}"
            return f"giai đoạn {self.first.year}–{self.last.year}"
        if self.first.year == self.last.year and self.first.month % 3 == 1 and self.last.month == self.first.month + 2:
            return f"quý {ROMAN[self.first.quarter - 1]}/{self.first.year}"
        return f"từ tháng {self.first.month}/{self.first.year} đến tháng {self.last.month}/{self.last.year}"


def _bounds(text: str) -> tuple[Month, Month]:
    if match := _MONTH.fullmatch(text):
        month = Month(int(match[1]), int(match[2]))
        return month, month
    if match := _QUARTER.fullmatch(text):
        year, quarter = int(match[1]), int(match[2])
        return Month(year, 3 * quarter - 2), Month(year, 3 * quarter)
    if match := _YEAR.fullmatch(text):
        year = int(match[1])
        return Month(year, 1), Month(year, 12)
    raise PeriodError(f"not a month (2025-07), quarter (2025-Q3) or year (2025): {text!r}")


def parse_period(text: str) -> Period:
    """Parse `2025-07`, `2025-Q3`, `2025` or a range `A..B` of those; raises `PeriodError`."""
    text = text.strip()
    if ".." in text:
        left, _, right = text.partition("..")
        first, last = _bounds(left)[0], _bounds(right)[1]
    else:
        first, last = _bounds(text)
    if last < first:
        raise PeriodError(f"the period ends before it starts: {text!r}")
    if not 2000 <= first.year <= 2100 or not 2000 <= last.year <= 2100:
        raise PeriodError(f"year out of range: {text!r}")
    return Period(first, last, text)


def quarter_months(year: int, quarter: int) -> list[Month]:
    return [Month(year, 3 * quarter - 2 + i) for i in range(3)]
