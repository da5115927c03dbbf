"""The plan tracker: the 2023–2027 roadmap as data, what the club held, and the meeting cadence.

An item is `done` when an activity recorded against it (`plan_item_id`) exists, or — for the yearly
thematic programme, the Children's Council support and the board's training (tập huấn Ban Chủ nhiệm) —
when an activity of that kind was held in the item's year (for the Council: also advice recorded that
year). Local clubs (commune/ward level; district level before 2025-07-01) are activities of kind
`local_club` naming their unit; the tracker lists them. Otherwise it is `due` until its due date and `overdue` after it.

Cadence (DOMAIN.md §1–2): a board meeting every quarter, in the quarter's last month; at least two
club meetings a year.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import council, store
from services.reporting.domain import ROMAN, Month, Period, quarter_months

ACTIVITY_KINDS = {
    "thematic_programme": "Chương trình chuyên đề",
    "board_meeting": "Họp Ban Chủ nhiệm",
    "club_meeting": "Sinh hoạt Câu lạc bộ",
    "council_support": "Hỗ trợ Hội đồng trẻ em",
    "board_training": "Tập huấn Ban Chủ nhiệm",
    "local_club": "Câu lạc bộ cấp xã, phường",
    "other": "Hoạt động khác",
}
# Activity kinds that complete the roadmap item of the same year by themselves.
COMPLETES = {
    "thematic_programme": "thematic_programme",
    "council_support": "children_council_support",
    "board_training": "board_training",
}
CLUB_MEETINGS_A_YEAR = 2

Row = dict[str, Any]


def item_status(done: bool, due_on: date, today: date) -> str:
    if done:
        return "done"
    return "due" if today <= due_on else "overdue"


async def activities(session: AsyncSession, start: date, end: date) -> list[Row]:
    a = store.plan_activities.c
    result = await session.execute(
        select(store.plan_activities).where(a.held_on.between(start, end)).order_by(a.held_on, a.recorded_at)
    )
    return [dict(r._mapping) for r in result]


async def items(session: AsyncSession, period: Period, today: date) -> list[Row]:
    """Roadmap items due in the period's years, with their status and the activities that fulfilled them."""
    p = store.plan_items.c
    years = period.years()
    rows = [
        dict(r._mapping)
        for r in await session.execute(
            select(store.plan_items).where(p.year.between(years[0], years[-1])).order_by(p.due_on, p.item_id)
        )
    ]
    held = await activities(session, date(years[0], 1, 1), date(years[-1], 12, 31))
    # Activities recorded against an item may fall outside its year: fetch those too.
    a = store.plan_activities.c
    linked = [
        dict(r._mapping)
        for r in await session.execute(
            select(store.plan_activities).where(a.plan_item_id.in_([r["item_id"] for r in rows]))
        )
    ]
    by_item: dict[str, list[Row]] = defaultdict(list)
    for activity in {x["activity_id"]: x for x in held + linked}.values():
        if activity["plan_item_id"]:
            by_item[activity["plan_item_id"]].append(activity)
        elif activity["kind"] in COMPLETES:
            by_item[f"{activity['held_on'].year}-{COMPLETES[activity['kind']]}"].append(activity)
    advised = await council.advice_years(session, years[0], years[-1])
    for row in rows:
        fulfilled = sorted(by_item.get(row["item_id"], []), key=lambda x: x["held_on"])
        # advice to the Children's Council recorded in the year fulfils the year's support item too
        advice = advised.get(row["year"]) if row["kind"] == "children_council_support" else None
        row["status"] = item_status(bool(fulfilled) or advice is not None, row["due_on"], today)
        held = [x["held_on"] for x in fulfilled] + ([advice] if advice else [])
        row["held_on"] = min(held) if held else None
        row["activities"] = [str(x["activity_id"]) for x in fulfilled]
    return rows


def board_meetings(held: list[Row], years: list[int], today: date) -> list[Row]:
    """One row per quarter: meetings held in the quarter's last month, and whether the rule is met."""
    rows = []
    for year in years:
        for quarter in range(1, 5):
            last: Month = quarter_months(year, quarter)[-1]
            in_last_month = [a for a in held if a["kind"] == "board_meeting" and Month.of(a["held_on"]) == last]
            status = "done" if in_last_month else ("due" if today <= last.last_day else "overdue")
            rows.append(
                dict(
                    item_id=f"board-{year}-Q{quarter}",
                    year=year,
                    quarter=quarter,
                    due_on=last.last_day,
                    held=len(in_last_month),
                    status=status,
                    title_vi=f"Họp Ban Chủ nhiệm quý {ROMAN[quarter - 1]}/{year}",
                )
            )
    return rows


def club_meetings(held: list[Row], years: list[int], today: date) -> list[Row]:
    rows = []
    for year in years:
        count = sum(1 for a in held if a["kind"] == "club_meeting" and a["held_on"].year == year)
        due = date(year, 12, 31)
        status = "done" if count >= CLUB_MEETINGS_A_YEAR else ("due" if today <= due else "overdue")
        rows.append(
            dict(
                item_id=f"club-{year}",
                year=year,
                due_on=due,
                held=count,
                required=CLUB_MEETINGS_A_YEAR,
                status=status,
                title_vi=f"Sinh hoạt Câu lạc bộ năm {year} (ít nhất {CLUB_MEETINGS_A_YEAR} lần)",
            )
        )
    return rows


async def tracker(session: AsyncSession, period: Period, today: date) -> Row:
    """The plan tracker for the years a period covers: roadmap items, cadence checks, activities held."""
    years = period.years()
    held = await activities(session, date(years[0], 1, 1), date(years[-1], 12, 31))
    roadmap = await items(session, period, today)
    return dict(
        today=today,
        items=roadmap,
        board_meetings=board_meetings(held, years, today),
        club_meetings=club_meetings(held, years, today),
        activities=[
            {**a, "activity_id": str(a["activity_id"])} for a in held if period.start <= a["held_on"] <= period.end
        ],
        counts={s: sum(1 for r in roadmap if r["status"] == s) for s in ("done", "due", "overdue")},
        local_clubs=local_clubs(held, period),
    )


def local_clubs(held: list[Row], period: Period) -> list[Row]:
    """Clubs at commune/ward level (before 2025-07-01: district level; plan: "tùy điều kiện thực tế từng đơn
    vị có thể thành lập Câu lạc bộ ... cấp huyện"), one row per unit: first and latest activity recorded."""
    by_unit: dict[str, list[Row]] = defaultdict(list)
    for a in held:
        if a["kind"] == "local_club" and a.get("unit") and a["held_on"] <= period.end:
            by_unit[a["unit"]].append(a)
    return [
        dict(unit=unit, first_on=min(x["held_on"] for x in rows), activities=len(rows), title_vi=rows[0]["title_vi"])
        for unit, rows in sorted(by_unit.items())
    ]
