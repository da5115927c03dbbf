"""The reports pages' rules, without I/O: which report a page shows (kind and period), the periods one may
pick, its downloads and the Vietnamese words of reporting's codes (the tables: `report_tables.py`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

ROMAN = ("I", "II", "III", "IV")
MONTH = re.compile(r"^(20[2-9][0-9])-(0[1-9]|1[0-2])$")
QUARTER = re.compile(r"^(20[2-9][0-9])-Q([1-4])$")
YEAR = re.compile(r"^(20[2-9][0-9])$")
FIRST_YEAR = 2023

STAGES = {  # from the report (the table's caption says so)
    "assigned": "Đến khi phân công",
    "accepted": "Đến khi nhận xử lý",
    "forwarded": "Đến khi chuyển Ban Thường vụ",
}
DEADLINES = {
    "acceptance": "Nhận xử lý",
    "emergency_intervention": "Can thiệp khẩn cấp (12 giờ)",
    "support_plan": "Kế hoạch hỗ trợ (5 ngày làm việc)",
    "answer": "Trả lời tư vấn",
}
LEVELS = {"chair": "Chủ nhiệm", "committee": "Ban Thường vụ"}
STATUS = {
    "reported": "Mới tiếp nhận",
    "assigned": "Đã phân công",
    "accepted": "Đã nhận xử lý",
    "in_progress": "Đang xử lý",
    "forwarded": "Đã chuyển Ban Thường vụ",
    "closed": "Đã kết thúc",
}
PLAN_STATUS = {"done": "Đã thực hiện", "due": "Chưa đến hạn", "overdue": "Quá hạn"}
GRID = {"on_time": ("✓", "đúng hạn"), "late": ("M", "muộn"), "missing": ("✗", "thiếu"), None: ("", "chưa có đơn vị")}
DECISIONS = {
    "approved": "Thông qua đề xuất",
    "amended": "Thông qua có điều chỉnh",
    "returned": "Trả lại để bổ sung",
}
# The reports reporting exports one by one (CSV or XLSX); `summary` is every sheet in one XLSX.
EXPORTS = {
    "summary": "Tất cả bảng",
    "cases": "Vụ việc (chi tiết)",
    "timings": "Thời gian xử lý",
    "breaches": "Quá hạn",
    "completeness": "Báo cáo của đơn vị",
    "plan": "Kế hoạch",
}


@dataclass(frozen=True)
class Report:
    """One page: `kind` (URL segment), the period reporting understands, its title, and the DOCX it has."""

    kind: str
    period: str
    title: str
    docx: dict[str, str] | None = None  # query of reporting's /v1/reports/review, when there is a document
    choose: str = ""  # the value of the period picker (month, quarter or year)

    @property
    def multi_year(self) -> bool:
        return ".." in self.period


class BadPeriod(ValueError):
    """The period in the address is not one this kind of report takes (said in Vietnamese)."""


def report(kind: str, value: str | None, today: date) -> Report:
    """The report a page shows; a missing period is the current month, quarter or year (BadPeriod if wrong)."""
    if kind == "thang":
        value = value or f"{today:%Y-%m}"
        found = MONTH.match(value)
        if not found:
            raise BadPeriod("Tháng không hợp lệ: hãy chọn theo dạng 2026-11.")
        return Report(kind, value, f"Báo cáo tháng {found[2]}/{found[1]}", choose=value)
    if kind == "quy":
        value = value or f"{today.year}-Q{(today.month - 1) // 3 + 1}"
        found = QUARTER.match(value)
        if not found:
            raise BadPeriod("Quý không hợp lệ: hãy chọn theo dạng 2026-Q4.")
        return Report(kind, value, f"Báo cáo quý {ROMAN[int(found[2]) - 1]}/{found[1]}", choose=value)
    if kind == "nam":
        value = value or str(today.year)
        if not YEAR.match(value):
            raise BadPeriod("Năm không hợp lệ: hãy chọn theo dạng 2026.")
        return Report(kind, value, f"Báo cáo năm {value}", {"kind": "annual", "year": value}, choose=value)
    if kind == "so-ket-3-nam":
        return Report(kind, "2023..2025", "Sơ kết 3 năm (2023–2025)", {"kind": "three_year"})
    if kind == "tong-ket-5-nam":
        return Report(kind, "2023..2027", "Tổng kết 5 năm (2023–2027)", {"kind": "five_year"})
    raise BadPeriod("Không có loại báo cáo này.")


def choices(kind: str, today: date) -> list[tuple[str, str]]:
    """The picker's options, newest first, from 2023 (the plan's first year) to today."""
    years = range(today.year, FIRST_YEAR - 1, -1)
    if kind == "thang":
        return [
            (f"{y}-{m:02d}", f"Tháng {m:02d}/{y}")
            for y in years
            for m in range(12, 0, -1)
            if (y, m) <= (today.year, today.month)
        ]
    if kind == "quy":
        current = (today.month - 1) // 3 + 1
        return [
            (f"{y}-Q{q}", f"Quý {ROMAN[q - 1]}/{y}")
            for y in years
            for q in range(4, 0, -1)
            if (y, q) <= (today.year, current)
        ]
    if kind == "nam":
        return [(str(y), f"Năm {y}") for y in years]
    return []
