"""Support to the provincial Children's Council (hỗ trợ và tư vấn cho Hội đồng trẻ em cấp tỉnh): its
requests, the club's advice and follow-up, and the counts the reviews print. Advice given in a year also
fulfils that year's roadmap item `children_council_support` (`plan.items`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import store
from services.reporting.domain import Period


async def requests(session: AsyncSession, period: Period) -> list[dict[str, Any]]:
    """The Council's requests received in the period, each with its follow-ups (in date order)."""
    r, f = store.council_requests.c, store.council_follow_ups.c
    rows = [
        dict(row._mapping)
        for row in await session.execute(
            select(store.council_requests)
            .where(r.received_on >= period.start, r.received_on <= period.end)
            .order_by(r.received_on, r.recorded_at)
        )
    ]
    follow_ups: dict[Any, list[dict[str, Any]]] = {}
    if rows:
        for follow_up in await session.execute(
            select(store.council_follow_ups)
            .where(f.request_id.in_([x["request_id"] for x in rows]))
            .order_by(f.on, f.recorded_at)
        ):
            follow_ups.setdefault(follow_up.request_id, []).append(dict(follow_up._mapping))
    for row in rows:
        row["follow_ups"] = follow_ups.get(row["request_id"], [])
    return rows


async def counts(session: AsyncSession, period: Period) -> dict[str, int]:
    """requests received, advised (of those), followed up (of those), waiting for advice; follow-ups made."""
    rows = await requests(session, period)
    return {
        "requests": len(rows),
        "advised": sum(1 for r in rows if r["advised_on"] is not None),
        "followed_up": sum(1 for r in rows if r["follow_ups"]),
        "waiting": sum(1 for r in rows if r["advised_on"] is None),
        "follow_ups": sum(len(r["follow_ups"]) for r in rows),
    }


def counts_query(period: Period) -> Select[Any]:
    """`counts` as one row of one query (`figures.summary` reads it with the report's other figures)."""
    r, f = store.council_requests.c, store.council_follow_ups.c
    made = select(f.request_id, func.count().label("n")).group_by(f.request_id).subquery()
    return (
        select(
            func.count().label("requests"),
            func.count(r.advised_on).label("advised"),
            func.count(made.c.n).label("followed_up"),
            func.count().filter(r.advised_on.is_(None)).label("waiting"),
            func.coalesce(func.sum(made.c.n), 0).label("follow_ups"),
        )
        .select_from(store.council_requests.outerjoin(made, made.c.request_id == r.request_id))
        .where(r.received_on >= period.start, r.received_on <= period.end)
    )


async def advice_years(session: AsyncSession, first: int, last: int) -> dict[int, date]:
    """Year → the first day the club advised the Council that year."""
    r = store.council_requests.c
    year = func.extract("year", r.advised_on)
    result = await session.execute(
        select(year, func.min(r.advised_on))
        .where(r.advised_on.is_not(None), r.advised_on >= date(first, 1, 1), r.advised_on <= date(last, 12, 31))
        .group_by(year)
    )
    return {int(y): day for y, day in result}
