"""Completeness (DHIS2 style) from a registry and the units' first revisions, without a server: expected
unit-months follow each unit's validity, reports for months a unit did not exist (or of a unit not in the
registry) are counted apart, and the grid shows every unit's months."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from services.reporting import figures
from services.reporting.domain import parse_period

UNITS = [
    {"code": "D-OLD", "name_vi": "Huyện cũ", "valid_from": None, "valid_to": date(2025, 6, 30)},
    {"code": "X-NEW", "name_vi": "Xã mới", "valid_from": date(2025, 7, 1), "valid_to": None},
    {"code": "X-OPEN", "name_vi": "Xã", "valid_from": date(2024, 1, 15), "valid_to": None},
    {"code": "Z-LATER", "name_vi": "Chưa có", "valid_from": date(2026, 1, 1), "valid_to": None},
]
FIRSTS = {
    "D-OLD": {"2025-05": "on_time", "2025-07": "late"},  # July: the unit had ended
    "X-NEW": {"2025-08": "late"},
    "X-OPEN": {"2025-05": "on_time", "2025-06": "late", "2025-08": "on_time"},
    "GONE": {"2025-06": "on_time"},  # not in the registry
}


async def test_completeness_counts_unit_months_by_validity_and_reports_outside_it_apart():
    reports = figures.Reports(firsts=FIRSTS, sums={})
    period = parse_period("2025-05..2025-08")
    got = await figures.completeness(cast(Any, None), period, reports=reports, units=UNITS)

    months = ["2025-05", "2025-06", "2025-07", "2025-08"]
    assert got["months"] == months
    counts = {r["unit"]: (r["expected"], r["received"], r["on_time"], r["late"], r["missing"]) for r in got["rows"]}
    assert counts == {"D-OLD": (2, 1, 1, 0, 1), "X-NEW": (2, 1, 0, 1, 1), "X-OPEN": (4, 3, 2, 1, 1)}
    assert [r["unit"] for r in got["rows"]] == ["D-OLD", "X-NEW", "X-OPEN"]
    assert got["rows"][0]["unit_name"] == "Huyện cũ" and got["rows"][0]["rate"] == 50.0
    assert got["total"] == {
        "expected": 8, "received": 5, "on_time": 3, "late": 2, "missing": 3, "rate": 62.5, "on_time_rate": 37.5
    }  # fmt: skip
    assert got["unexpected"] == 2  # D-OLD's July and GONE's June
    assert got["missing_last_month"] == []
    assert got["grid"] == [
        {"unit": "D-OLD", "unit_name": "Huyện cũ",
         "months": {"2025-05": "on_time", "2025-06": "missing", "2025-07": None, "2025-08": None}},
        {"unit": "X-NEW", "unit_name": "Xã mới",
         "months": {"2025-05": None, "2025-06": None, "2025-07": "missing", "2025-08": "late"}},
        {"unit": "X-OPEN", "unit_name": "Xã",
         "months": {"2025-05": "on_time", "2025-06": "late", "2025-07": "missing", "2025-08": "on_time"}},
    ]  # fmt: skip

    in_july = {unit: {m: s for m, s in states.items() if m == "2025-07"} for unit, states in FIRSTS.items()}
    july_reports = figures.Reports(firsts={unit: states for unit, states in in_july.items() if states}, sums={})
    july = await figures.completeness(cast(Any, None), parse_period("2025-07"), reports=july_reports, units=UNITS)
    assert [u["unit"] for u in july["missing_last_month"]] == ["X-NEW", "X-OPEN"]
    assert july["unexpected"] == 1  # D-OLD's July


async def test_a_reports_totals_come_in_code_order_whatever_order_the_database_returns():
    found = {
        "group": [["X-2", "b", 1], ["X-1", "c", 2], ["X-1", "a", 3]],
        "age_band": [["", "6-10", 4], ["", "0-5", 5]],
        "status": [["", "reported", 6], ["", "closed", 0]],
    }
    period = parse_period("2025-07")
    groups = await figures.special_groups(cast(Any, None), period, found=figures._ordered(found))
    assert [(g["unit"], g["grp"]) for g in groups] == [("X-1", "a"), ("X-1", "c"), ("X-2", "b")]
    assert list(await figures.age_bands(cast(Any, None), period, found=found)) == ["0-5", "6-10"]
    cases = await figures.cases_summary(cast(Any, None), period, found=found)
    assert cases["by_status"] == {"reported": 6}  # a state whose cases all moved on is not shown
