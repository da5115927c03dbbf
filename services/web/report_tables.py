"""Reporting's summary turned into the reports pages' tables and charts, without I/O: Vietnamese labels, every
month of the period (zeros included), units by name, and suppressed counts kept as reporting gives them
("<5" stays "<5")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.web import charts
from services.web.charts import Bar
from services.web.domain import URGENCY
from services.web.reports import DEADLINES, DECISIONS, GRID, LEVELS, PLAN_STATUS, STAGES, STATUS, Report


def _count(value: Any) -> int | str:
    return value if isinstance(value, int | str) else int(value or 0)


def _order(value: int | str) -> tuple[int, float]:
    """Larger first; a suppressed "<5" after every shown number."""
    return (1, 0.0) if isinstance(value, str) else (0, -float(value))


@dataclass
class Table:
    """A table of the page and the chart drawn from it (same figures)."""

    key: str
    caption: str
    headers: list[str]
    rows: list[list[Any]]
    chart: str = ""  # a Markup (safe SVG) from services.web.charts
    note: str = ""
    export: str | None = None  # reporting's report name for the CSV download beside the table
    numeric: set[int] = field(default_factory=set)  # columns aligned right


def _named(counts: Mapping[str, Any], names: Mapping[str, str]) -> list[tuple[str, int | str]]:
    rows = [(names.get(code, code), _count(n)) for code, n in counts.items()]
    return sorted(rows, key=lambda r: (_order(r[1]), r[0]))


def months_of(period_totals: Mapping[str, Any], months: list[str], multi_year: bool) -> list[tuple[str, int | str]]:
    """Cases by month (every month of the period, zeros included), or by year over several years."""
    if not multi_year:
        return [(f"{m[5:7]}/{m[:4]}", _count(period_totals.get(m, 0))) for m in months]
    years: dict[str, int] = {}
    for m in months:
        value = period_totals.get(m, 0)
        years[m[:4]] = years.get(m[:4], 0) + (value if isinstance(value, int) else 0)
    return [(f"Năm {y}", n) for y, n in years.items()]


def case_tables(summary: Mapping[str, Any], report_: Report, units: Mapping[str, str], categories: Mapping[str, str]):
    """Cases by month (or year), category, unit and urgency, each with its chart."""
    cases = summary.get("cases") or {}
    months = list((summary.get("completeness") or {}).get("months") or sorted(cases.get("by_period", {})))
    by_time = months_of(cases.get("by_period") or {}, months, report_.multi_year)
    time_word = "năm" if report_.multi_year else "tháng"
    # Under the columns, "T11" (tháng 11) or the year: "11/2026" twelve times does not fit a phone.
    column_labels = [label[4:] if report_.multi_year else f"T{int(label[:2])}" for label, _ in by_time]
    by_category = _named(cases.get("by_category") or {}, categories)
    by_unit = _named(cases.get("by_unit") or {}, units)
    urgency = cases.get("by_urgency") or {}
    by_urgency = [(URGENCY[u], _count(urgency[u])) for u in URGENCY if u in urgency]
    by_status = _named(cases.get("by_status") or {}, STATUS)
    top_units = by_unit[:15]
    unit_note = f"Biểu đồ: {len(top_units)} đơn vị nhiều vụ việc nhất; bảng: mọi đơn vị." if len(by_unit) > 15 else ""
    return [
        Table(
            "theo-thoi-gian",
            f"Số vụ việc theo {time_word}",
            ["Tháng" if not report_.multi_year else "Năm", "Số vụ việc"],
            [list(r) for r in by_time],
            charts.columns(
                "bd-thoi-gian",
                f"Số vụ việc theo {time_word}",
                [Bar(short, n) for short, (_, n) in zip(column_labels, by_time, strict=True)],
            ),
            numeric={1},
        ),
        Table(
            "theo-loai",
            "Số vụ việc theo loại vụ việc",
            ["Loại vụ việc", "Số vụ việc"],
            [list(r) for r in by_category],
            charts.bars("bd-loai", "Số vụ việc theo loại vụ việc", [Bar(*r) for r in by_category], colour=4),
            export="cases",
            numeric={1},
        ),
        Table(
            "theo-don-vi",
            "Số vụ việc theo đơn vị",
            ["Đơn vị", "Số vụ việc"],
            [list(r) for r in by_unit],
            charts.bars("bd-don-vi", "Số vụ việc theo đơn vị", [Bar(*r) for r in top_units], colour=0),
            note=("Đơn vị theo tên gọi tại thời điểm tiếp nhận (trước và sau ngày 01/7/2025). " + unit_note).strip(),
            export="cases",
            numeric={1},
        ),
        Table(
            "theo-muc-do",
            "Số vụ việc theo mức độ khẩn cấp",
            ["Mức độ khẩn cấp", "Số vụ việc"],
            [list(r) for r in by_urgency],
            charts.bars("bd-muc-do", "Số vụ việc theo mức độ khẩn cấp", [Bar(*r) for r in by_urgency], colour=1),
            export="cases",
            numeric={1},
        ),
        Table(
            "theo-trang-thai",
            "Số vụ việc theo trạng thái",
            ["Trạng thái", "Số vụ việc"],
            [list(r) for r in by_status],
            export="cases",
            numeric={1},
        ),
    ]


def timing_table(rows: list[Mapping[str, Any]]) -> Table:
    """Hours from report to assignment, acceptance and forwarding, by urgency; the chart shows each stage's
    mean over every urgency (weighted by cases)."""
    table = [
        [
            STAGES.get(r["stage"], r["stage"]),
            URGENCY.get(r["urgency"], r["urgency"]),
            r["cases"],
            r["mean_hours"],
            r["max_hours"],
        ]
        for r in rows
    ]
    means = []
    for stage, label in STAGES.items():
        mine = [r for r in rows if r["stage"] == stage and r["cases"]]
        cases = sum(r["cases"] for r in mine)
        if cases:
            means.append(Bar(label, round(sum(r["mean_hours"] * r["cases"] for r in mine) / cases, 1), "giờ"))
    return Table(
        "thoi-gian",
        "Thời gian xử lý (giờ, tính từ lúc tiếp nhận báo cáo)",
        ["Giai đoạn", "Mức độ", "Số vụ việc", "Trung bình", "Tối đa"],
        table,
        charts.bars("bd-thoi-gian-xu-ly", "Thời gian trung bình từ lúc tiếp nhận (giờ)", means, colour=2),
        export="timings",
        numeric={2, 3, 4},
    )


def breach_table(rows: list[Mapping[str, Any]]) -> Table:
    table = [
        [
            DEADLINES.get(r["deadline"], r["deadline"]),
            URGENCY.get(r["urgency"], r["urgency"]),
            "Vụ việc" if r["subject"] == "case" else "Yêu cầu tư vấn",
            LEVELS.get(r["level"], r["level"]),
            r["breaches"],
        ]
        for r in rows
    ]
    by_deadline: dict[str, int] = {}
    for r in rows:
        label = DEADLINES.get(r["deadline"], r["deadline"])
        by_deadline[label] = by_deadline.get(label, 0) + int(r["breaches"])
    return Table(
        "qua-han",
        "Vi phạm thời hạn (quá hạn mà chưa ai xử lý)",
        ["Thời hạn", "Mức độ khẩn cấp", "Đối tượng", "Cấp đã báo cáo", "Số lần quá hạn"],
        table,
        charts.bars(
            "bd-qua-han", "Số lần quá hạn theo thời hạn", [Bar(k, v) for k, v in by_deadline.items()], colour=1
        ),
        export="breaches",
        numeric={4},
    )


def decision_rows(decisions: Mapping[str, int]) -> list[list[Any]]:
    return [[label, int(decisions.get(code, 0))] for code, label in DECISIONS.items()]


@dataclass
class Grid:
    """Report completeness: units down, months (or years over several years) across."""

    columns: list[str]
    rows: list[tuple[str, list[tuple[str, str, str]]]]  # unit name, cells (class, text, words)


def completeness_grid(completeness: Mapping[str, Any], multi_year: bool) -> Grid:
    months: list[str] = list(completeness.get("months") or [])
    grid = completeness.get("grid") or []
    if not multi_year:
        columns = [f"{m[5:7]}/{m[2:4]}" for m in months]
        rows = []
        for unit in grid:
            cells = []
            for m in months:
                state = unit["months"].get(m)
                text, words = GRID[state]
                cells.append((state or "none", text, words))
            rows.append((unit["unit_name"], cells))
        return Grid(columns, rows)
    years = sorted({m[:4] for m in months})
    rows = []
    for unit in grid:
        cells = []
        for y in years:
            states = [s for m, s in unit["months"].items() if m.startswith(y) and s is not None]
            got = sum(1 for s in states if s != "missing")
            if not states:
                cells.append(("none", "", "chưa có đơn vị"))
            else:
                cls = "on_time" if got == len(states) else "missing" if got == 0 else "late"
                cells.append((cls, f"{got}/{len(states)}", f"nhận {got} trên {len(states)} tháng"))
        rows.append((unit["unit_name"], cells))
    return Grid(years, rows)


def completeness_table(completeness: Mapping[str, Any]) -> Table:
    def pct(value: Any) -> str:
        return "—" if value is None else f"{value:.1f}".replace(".", ",") + "%"

    rows = [
        [r["unit_name"], r["expected"], r["received"], r["on_time"], r["late"], r["missing"], pct(r["rate"])]
        for r in completeness.get("rows") or []
    ]
    total = completeness.get("total") or {}
    if total:
        rows.append(
            [
                "Toàn tỉnh",
                total.get("expected", 0),
                total.get("received", 0),
                total.get("on_time", 0),
                total.get("late", 0),
                total.get("missing", 0),
                pct(total.get("rate")),
            ]
        )
    return Table(
        "bao-cao-don-vi",
        "Báo cáo tháng của các đơn vị: tỷ lệ đầy đủ",
        ["Đơn vị", "Phải nộp", "Đã nhận", "Đúng hạn", "Muộn", "Thiếu", "Tỷ lệ"],
        rows,
        export="completeness",
        numeric={1, 2, 3, 4, 5, 6},
    )


def plan_rows(plan: Mapping[str, Any]) -> list[list[Any]]:
    """Roadmap items, the quarterly board meetings and the yearly club meetings, each with its status."""
    rows = []
    for item in [*(plan.get("items") or []), *(plan.get("board_meetings") or []), *(plan.get("club_meetings") or [])]:
        status = PLAN_STATUS.get(item["status"], item["status"])
        rows.append([item.get("title_vi") or item.get("item_id"), item.get("due_on"), status])
    return rows


def plan_table(plan: Mapping[str, Any]) -> Table:
    """How many of the plan's items (roadmap and meetings) are done, not yet due and overdue, with its chart."""
    rows = plan_rows(plan)
    counts = [(label, sum(1 for r in rows if r[2] == label)) for label in PLAN_STATUS.values()]
    return Table(
        "ke-hoach",
        "Thực hiện kế hoạch 2023–2027 (các mục của kỳ báo cáo)",
        ["Tình trạng", "Số mục"],
        [list(r) for r in counts],
        charts.bars("bd-ke-hoach", "Các mục của kế hoạch theo tình trạng", [Bar(*r) for r in counts], colour=3),
        export="plan",
        numeric={1},
    )
