"""The reports pages' own charts and tables, without any server: SVG drawn with presentation attributes only
(the CSP forbids inline style), text escaped, a suppressed "<5" drawn as such and never as a number, the
periods of each kind of report and the month × unit grid of report completeness."""

from __future__ import annotations

import re
from datetime import date

import pytest

from services.web import charts, report_tables, reports
from services.web.charts import Bar

TODAY = date(2026, 11, 10)


def test_bars_scale_to_the_largest_value_and_say_every_figure_in_the_description():
    svg = str(charts.bars("bd", "Số vụ việc theo loại", [Bar("Bỏ mặc", 10), Bar("Bạo lực <học đường>", 5)]))
    widths = [float(w) for w in re.findall(r'<rect x="0" y="[0-9.]+" width="([0-9.]+)"', svg)]
    assert widths[0] == pytest.approx(2 * widths[1])
    assert 'role="img"' in svg and '<title id="bd-t">Số vụ việc theo loại</title>' in svg
    assert "Bỏ mặc: 10; Bạo lực &lt;học đường&gt;: 5" in svg
    assert "<học" not in svg and "style=" not in svg


def test_a_suppressed_count_stays_as_reporting_gave_it():
    svg = str(charts.bars("bd", "Theo đơn vị", [Bar("Xã A", 12), Bar("Xã B", "<5")]))
    assert "&lt;5" in svg and 'stroke-dasharray="3 2"' in svg
    columns = str(charts.columns("bd2", "Theo tháng", [Bar("01/2026", "<5"), Bar("02/2026", 7)]))
    assert "&lt;5" in columns and ">7<" in columns
    table = report_tables.case_tables(
        {"cases": {"total": 12, "by_unit": {"xa-a": 12, "xa-b": "<5"}}}, reports.report("nam", "2026", TODAY), {}, {}
    )
    assert [r for t in table if t.key == "theo-don-vi" for r in t.rows] == [["xa-a", 12], ["xa-b", "<5"]]


def test_each_kind_of_report_has_its_period_title_and_document():
    assert reports.report("thang", None, TODAY) == reports.Report(
        "thang", "2026-11", "Báo cáo tháng 11/2026", choose="2026-11"
    )
    assert reports.report("quy", None, TODAY).title == "Báo cáo quý IV/2026"
    annual = reports.report("nam", "2025", TODAY)
    assert annual.period == "2025" and annual.docx == {"kind": "annual", "year": "2025"}
    assert reports.report("so-ket-3-nam", None, TODAY).period == "2023..2025"
    assert reports.report("tong-ket-5-nam", None, TODAY).docx == {"kind": "five_year"}
    for kind, bad in (("thang", "2026-13"), ("quy", "2026-Q5"), ("nam", "20x6"), ("tuan", None)):
        with pytest.raises(reports.BadPeriod):
            reports.report(kind, bad, TODAY)
    assert reports.choices("thang", TODAY)[0] == ("2026-11", "Tháng 11/2026")
    assert reports.choices("quy", date(2023, 2, 1)) == [("2023-Q1", "Quý I/2023")]


def test_the_completeness_grid_is_months_across_or_years_over_several_years():
    completeness = {
        "months": ["2025-05", "2025-06", "2025-07"],
        "grid": [
            {
                "unit": "huyen",
                "unit_name": "Huyện X",
                "months": {"2025-05": "on_time", "2025-06": "late", "2025-07": None},
            },
            {"unit": "xa", "unit_name": "Xã Y", "months": {"2025-05": None, "2025-06": None, "2025-07": "missing"}},
        ],
    }
    grid = report_tables.completeness_grid(completeness, multi_year=False)
    assert grid.columns == ["05/25", "06/25", "07/25"]
    assert [c[0] for c in grid.rows[0][1]] == ["on_time", "late", "none"]
    assert grid.rows[1][1][2][1:] == ("✗", "thiếu")
    years = report_tables.completeness_grid(completeness, multi_year=True)
    assert years.columns == ["2025"] and years.rows[0][1] == [("on_time", "2/2", "nhận 2 trên 2 tháng")]
    assert years.rows[1][1][0][:2] == ("missing", "0/1")


def test_timings_chart_weighs_each_urgency_by_its_cases():
    rows = [
        {"stage": "assigned", "urgency": "critical", "cases": 1, "mean_hours": 1.0, "max_hours": 1.0},
        {"stage": "assigned", "urgency": "low", "cases": 3, "mean_hours": 5.0, "max_hours": 9.0},
    ]
    table = report_tables.timing_table(rows)
    assert table.rows[0] == ["Đến khi phân công", "Khẩn cấp", 1, 1.0, 1.0]
    assert "Đến khi phân công: 4 giờ" in str(table.chart)
