"""The report queries: plain async functions of a session and a period, returning plain data.

Case figures read the pre-aggregated counters (`case_counts`, `case_group_counts`, `case_timings`),
whose primary keys start with the month, so a month, a year or five years is one index range scan
over at most (months × units × categories × urgencies × states) rows, independent of the number of
cases. Completeness reads the unit registry and the monthly reports (a few thousand rows for
2023–2027) and is computed here.

Units are reported under the unit that existed at the time. `rollup=True` re-attributes figures of the
units that ended on 2025-06-30 to their successors: each old unit's figure is split in equal shares
among its successors (the mapping is many-to-many), so province totals stay exact while each new
unit's share is an approximation; rolled-up rows carry `approximate: true`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import council, store
from services.reporting.domain import Period, parse_period

Row = dict[str, Any]


async def unit_names(session: AsyncSession) -> dict[str, str]:
    return {code: name for code, name in (await session.execute(select(store.units.c.code, store.units.c.name_vi)))}


async def category_names(session: AsyncSession) -> dict[str, str]:
    c = store.categories.c
    return {code: name for code, name in (await session.execute(select(c.code, c.name_vi)))}


async def successors(session: AsyncSession) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    s = store.unit_successors.c
    for old, new in await session.execute(select(s.old_unit, s.new_unit).order_by(s.old_unit, s.new_unit)):
        out[old].append(new)
    return dict(out)


def roll_up(rows: Iterable[Row], mapping: dict[str, list[str]], values: tuple[str, ...]) -> list[Row]:
    """Re-attribute rows of ended units to their successors in equal shares (see module docstring)."""
    merged: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        targets = mapping.get(row["unit"]) or [row["unit"]]
        share = 1 / len(targets)
        for target in targets:
            out = {**row, "unit": target, "approximate": row.get("approximate", False) or target != row["unit"]}
            key = tuple((k, v) for k, v in out.items() if k not in values and k != "approximate")
            if key in merged:
                for name in values:
                    merged[key][name] += out[name] * share
                merged[key]["approximate"] = merged[key]["approximate"] or out["approximate"]
            else:
                merged[key] = {**out, **{name: out[name] * share for name in values}}
    result = list(merged.values())
    for row in result:
        for name in values:
            if row["approximate"]:
                row[name] = round(row[name], 4)
    return result


def _in(period: Period, column: Any) -> Any:
    return column.between(period.first_key, period.last_key)


# --- cases -------------------------------------------------------------------------------------------


async def monthly(session: AsyncSession, period: Period) -> list[Row]:
    """Cases by unit, category and state (the minimal report of the spine issue)."""
    c = store.case_counts.c
    total = func.sum(c.cases)
    result = await session.execute(
        select(c.unit, c.category, c.status, total.label("cases"))
        .where(_in(period, c.period))
        .group_by(c.unit, c.category, c.status)
        .having(total > 0)
        .order_by(c.unit, c.category, c.status)
    )
    return [{"unit": u, "category": cat, "status": st, "cases": int(n)} for u, cat, st, n in result.tuples()]


DIMENSIONS = ("period", "unit", "category", "urgency", "status")


async def case_counts(session: AsyncSession, period: Period, *, rollup: bool = False) -> list[Row]:
    """Cases by month, unit, category, urgency and state: the finest grain every other count sums.

    Rows are built from plain tuples: at a million cases five years are ~240,000 counter rows, and
    going through SQLAlchemy's per-row mapping cost seconds.
    """
    c = store.case_counts.c
    result = await session.execute(
        select(c.period, c.unit, c.category, c.urgency, c.status, c.cases)
        .where(_in(period, c.period), c.cases > 0)
        .order_by(c.period, c.unit, c.category, c.urgency, c.status)
    )
    rows = [
        {"period": p, "unit": u, "category": cat, "urgency": urg, "status": st, "cases": int(n)}
        for p, u, cat, urg, st, n in result.tuples()
    ]
    return roll_up(rows, await successors(session), ("cases",)) if rollup else rows


def totals_by(rows: Iterable[Row], dimension: str, value: str = "cases") -> dict[str, Any]:
    out: dict[str, Any] = defaultdict(int)
    for row in rows:
        out[row[dimension]] += row[value]
    return dict(sorted(out.items()))


def _sum_into(totals: dict[str, Any], key: str, n: Any) -> None:
    totals[key] = totals.get(key, 0) + n


async def cases_summary(session: AsyncSession, period: Period, *, rollup: bool = False) -> Row:
    """Total and cases by month, unit, category, urgency and state.

    Without roll-up, PostgreSQL sums the counters in one pass with two grouping sets, (month, unit) and
    (category, urgency, state), and Python only adds up the few thousand rows that come back: five years
    at a million cases is one scan of ~240,000 counter rows instead of turning each into a dict (one
    grouping set per dimension kept five hash tables and was slower; a `UNION ALL` of two `GROUP BY`s
    paid for starting parallel workers even for one month). With roll-up the equal shares are rounded
    per fine row (see `roll_up`), so the totals are summed from the rolled-up fine rows, exactly as
    before.
    """
    if rollup:
        rows = await case_counts(session, period, rollup=True)
        return {"total": sum(r["cases"] for r in rows), **{f"by_{d}": totals_by(rows, d) for d in DIMENSIONS}}
    c = store.case_counts.c
    query = (
        select(func.grouping(c.period), c.period, c.unit, c.category, c.urgency, c.status, func.sum(c.cases))
        .where(_in(period, c.period), c.cases > 0)
        .group_by(func.grouping_sets(tuple_(c.period, c.unit), tuple_(c.category, c.urgency, c.status)))
    )
    totals: dict[str, dict[str, Any]] = {d: {} for d in DIMENSIONS}
    total = 0
    # grouping(period) is 1 on the rows of the (category, urgency, state) set, where the month is summed away.
    for by_kind, month, unit, category, urgency, status, n in (await session.execute(query)).tuples():
        n = int(n)
        if by_kind:
            _sum_into(totals["category"], category, n)
            _sum_into(totals["urgency"], urgency, n)
            _sum_into(totals["status"], status, n)
        else:
            total += n
            _sum_into(totals["period"], month, n)
            _sum_into(totals["unit"], unit, n)
    return {"total": total, **{f"by_{d}": dict(sorted(totals[d].items())) for d in DIMENSIONS}}


async def special_groups(session: AsyncSession, period: Period, *, rollup: bool = False) -> list[Row]:
    """Cases by special-circumstance group (Law on Children Art. 10) and unit; a case may be in several."""
    g = store.case_group_counts.c
    total = func.sum(g.cases)
    result = await session.execute(
        select(g.unit, g.grp, total.label("cases"))
        .where(_in(period, g.period))
        .group_by(g.unit, g.grp)
        .order_by(g.unit, g.grp)
    )
    rows = [{"unit": u, "grp": grp, "cases": int(n)} for u, grp, n in result.tuples()]
    return roll_up(rows, await successors(session), ("cases",)) if rollup else rows


async def tallies(session: AsyncSession, period: Period, dimension: str) -> dict[str, int]:
    """Cases of the period by one `case_tallies` dimension (`age_band`, `urgency_floor`, `decision`)."""
    t = store.case_tallies.c
    result = await session.execute(
        select(t.value, func.sum(t.cases))
        .where(_in(period, t.period), t.dimension == dimension)
        .group_by(t.value)
        .order_by(t.value)
    )
    return {value: int(n) for value, n in result.tuples()}


async def age_bands(session: AsyncSession, period: Period) -> dict[str, int]:
    """Cases by age band. Children are under 16 (0-5, 6-10, 11-15); 16-17 are minors, counted apart."""
    return await tallies(session, period, "age_band")


async def referrals(session: AsyncSession, period: Period) -> list[Row]:
    """Referrals made in the period by recipient, and how many of them were acknowledged."""
    made = await tallies(session, period, "referral")
    acknowledged = await tallies(session, period, "referral_ack")
    return [{"to": to, "referrals": n, "acknowledged": acknowledged.get(to, 0)} for to, n in made.items()]


async def open_cases_by_urgency(session: AsyncSession) -> dict[str, int]:
    """Cases not closed, whenever they were reported."""
    c = store.case_counts.c
    result = await session.execute(select(c.urgency, func.sum(c.cases)).where(c.status != "closed").group_by(c.urgency))
    return {urgency: int(n) for urgency, n in result}


# --- times and breaches -------------------------------------------------------------------------------


STAGES = ("assigned", "accepted", "forwarded")


async def timings(session: AsyncSession, period: Period) -> list[Row]:
    """Time from report to first assignment, first acceptance and forwarding, for cases reported in the period,
    by urgency (hours: mean and maximum)."""
    t = store.case_timings.c
    result = await session.execute(
        select(t.stage, t.urgency, func.sum(t.cases), func.sum(t.seconds), func.max(t.max_seconds))
        .where(_in(period, t.period))
        .group_by(t.stage, t.urgency)
    )
    rows = []
    for stage, urgency, n, seconds, longest in result:
        rows.append(
            dict(
                stage=stage,
                urgency=urgency,
                cases=int(n),
                mean_hours=round(float(seconds) / float(n) / 3600, 2),
                max_hours=round(float(longest) / 3600, 2),
            )
        )
    order = {s: i for i, s in enumerate(STAGES)}
    return sorted(rows, key=lambda r: (order.get(r["stage"], 9), r["urgency"]))


async def breaches(session: AsyncSession, period: Period) -> list[Row]:
    """Deadlines that passed with nobody acting (one per case/request, deadline and due time), by the
    month they fell due, deadline, urgency and the highest escalation level reached."""
    b = store.breaches.c
    result = await session.execute(
        select(b.deadline, b.urgency, b.subject, b.level, func.count().label("breaches"))
        .where(_in(period, b.period))
        .group_by(b.deadline, b.urgency, b.subject, b.level)
        .order_by(b.deadline, b.urgency, b.subject, b.level)
    )
    names = ("deadline", "urgency", "subject", "level", "breaches")
    return [dict(zip(names, row, strict=True)) for row in result.tuples()]


# --- counseling and notifications ----------------------------------------------------------------------


async def counseling(session: AsyncSession, period: Period) -> list[Row]:
    """Counseling requests received in the period by topic and channel, with how many are answered."""
    r = store.counseling_requests.c
    result = await session.execute(
        select(
            r.topic,
            r.channel,
            func.count().label("requests"),
            func.count(r.answered_at).label("answered"),
        )
        .where(_in(period, r.period))
        .group_by(r.topic, r.channel)
        .order_by(r.topic, r.channel)
    )
    return [
        {"topic": topic, "channel": channel, "requests": n, "answered": answered, "waiting": n - answered}
        for topic, channel, n, answered in result.tuples()
    ]


async def counseling_waiting(session: AsyncSession) -> int:
    r = store.counseling_requests.c
    return int((await session.execute(select(func.count()).where(r.answered_at.is_(None)))).scalar_one())


async def activity(session: AsyncSession, period: Period) -> list[Row]:
    """Notifications sent/failed by channel and member changes by reason."""
    a = store.activity_counts.c
    result = await session.execute(
        select(a.metric, a.key, func.sum(a.n).label("n"))
        .where(_in(period, a.period))
        .group_by(a.metric, a.key)
        .order_by(a.metric, a.key)
    )
    return [{"metric": metric, "key": key, "n": int(n)} for metric, key, n in result.tuples()]


# --- the units' monthly reports ---------------------------------------------------------------------------


Reports = dict[tuple[str, str], dict[str, Row]]


async def _reports(session: AsyncSession, period: Period) -> Reports:
    """First and latest revision of each unit's report per month, with only the fields the figures use:
    timeliness from the first revision, sums from the latest. PostgreSQL picks the revisions (one row per
    unit and month comes back, so only the latest revision's JSON is decoded)."""
    m = store.monthly_reports.c
    by_month = (m.unit, m.period)
    first_on_time = func.first_value(m.on_time).over(partition_by=by_month, order_by=m.revision)
    result = await session.execute(
        select(m.unit, m.period, first_on_time, m.activities_held, m.cases_by_category, m.special_circumstances_known)
        .distinct(m.unit, m.period)
        .where(_in(period, m.period))
        .order_by(m.unit, m.period, m.revision.desc())
    )
    return {
        (unit, month): {
            "first": {"on_time": on_time},
            "latest": {"activities_held": held, "cases_by_category": cases, "special_circumstances_known": special},
        }
        for unit, month, on_time, held, cases, special in result.tuples()
    }


async def unit_reports(
    session: AsyncSession, period: Period, *, rollup: bool = False, reports: Reports | None = None
) -> list[Row]:
    """The units' monthly situation reports summed per unit (latest revision of each unit and month).

    `reports` lets `summary` read the monthly reports once for this and `completeness`."""
    if reports is None:
        reports = await _reports(session, period)
    sums: dict[str, Row] = {}
    for (unit, _month), revisions in sorted(reports.items()):
        latest = revisions["latest"]
        row = sums.setdefault(unit, dict(unit=unit, reports=0, activities_held=0, cases=0))
        row["reports"] += 1
        row["activities_held"] += latest["activities_held"]
        for category, n in latest["cases_by_category"].items():
            row[f"cases:{category}"] = row.get(f"cases:{category}", 0) + n
            row["cases"] += n
        for grp, n in latest["special_circumstances_known"].items():
            row[f"special:{grp}"] = row.get(f"special:{grp}", 0) + n
    rows = list(sums.values())
    if rollup:
        keys = tuple(sorted({k for r in rows for k in r if k != "unit"}))
        rows = roll_up([{k: r.get(k, 0) for k in ("unit", *keys)} for r in rows], await successors(session), keys)
    return rows


# --- completeness and timeliness (DHIS2 style) ---------------------------------------------------------------


def _valid(unit: Row, first_day: Any, last_day: Any) -> bool:
    return (unit["valid_from"] is None or unit["valid_from"] <= last_day) and (
        unit["valid_to"] is None or unit["valid_to"] >= first_day
    )


async def expected_units(session: AsyncSession, period: Period) -> dict[str, list[str]]:
    """Per month of the period, the units that existed during it (expected to report)."""
    col = store.units.c
    units = [
        {"code": code, "valid_from": valid_from, "valid_to": valid_to}
        for code, valid_from, valid_to in (
            await session.execute(select(col.code, col.valid_from, col.valid_to).order_by(col.code))
        ).tuples()
    ]
    months = [(m.key, m.first_day, m.last_day) for m in period.months()]  # computed once, not once per unit
    return {key: [u["code"] for u in units if _valid(u, first, last)] for key, first, last in months}


async def completeness(
    session: AsyncSession, period: Period, *, rollup: bool = False, reports: Reports | None = None
) -> Row:
    """Expected, received, on time, late and missing monthly reports per unit and in total, with rates.

    As in DHIS2: expected = unit-months in which the unit existed; received = expected unit-months with a
    report (any revision); on time = received whose first revision met its due date; rate = received /
    expected; on-time rate = on time / expected. Reports for months a unit did not exist are counted
    apart (`unexpected`).
    """
    if reports is None:
        reports = await _reports(session, period)
    names = await unit_names(session)
    per_unit: dict[str, Row] = {}
    unexpected = 0
    expected_by_month = await expected_units(session, period)
    for month, codes in expected_by_month.items():
        for code in codes:
            row = per_unit.setdefault(code, dict(unit=code, expected=0, received=0, on_time=0, late=0, missing=0))
            row["expected"] += 1
            report = reports.get((code, month))
            if report is None:
                row["missing"] += 1
            else:
                row["received"] += 1
                row["on_time" if report["first"]["on_time"] else "late"] += 1
    for unit, month in reports:
        if unit not in expected_by_month.get(month, ()):
            unexpected += 1
    grid = _grid(expected_by_month, reports, names) if not rollup else []
    rows = sorted(per_unit.values(), key=lambda r: r["unit"])
    values = ("expected", "received", "on_time", "late", "missing")
    if rollup:
        rows = roll_up(rows, await successors(session), values)
    for row in rows:
        row["unit_name"] = names.get(row["unit"], row["unit"])
        _rates(row)
    total = {name: sum(r[name] for r in rows) for name in values}
    if rollup:
        total = {k: round(v) for k, v in total.items()}
    _rates(total)
    missing_now = [
        dict(unit=u, unit_name=names.get(u, u))
        for u in expected_by_month[period.last_key]
        if (u, period.last_key) not in reports
    ]
    return dict(
        period=period.label,
        rows=rows,
        total=total,
        unexpected=unexpected,
        missing_last_month=missing_now,
        months=list(expected_by_month),
        grid=grid,
    )


def _grid(expected_by_month: dict[str, list[str]], reports: Reports, names: dict[str, str]) -> list[Row]:
    """Each unit's months: `on_time`, `late`, `missing`, or None when the unit did not exist that month
    (the month × unit grid of the reports pages; units as they were at the time, never rolled up)."""
    units = sorted({code for codes in expected_by_month.values() for code in codes})
    grid = []
    for code in units:
        months: dict[str, str | None] = {}
        for month, codes in expected_by_month.items():
            report = reports.get((code, month))
            if code not in codes:
                months[month] = None
            elif report is None:
                months[month] = "missing"
            else:
                months[month] = "on_time" if report["first"]["on_time"] else "late"
        grid.append(dict(unit=code, unit_name=names.get(code, code), months=months))
    return grid


def _rates(row: Row) -> None:
    expected = row["expected"]
    row["rate"] = round(100 * row["received"] / expected, 1) if expected else None
    row["on_time_rate"] = round(100 * row["on_time"] / expected, 1) if expected else None


async def units_without_contact(session: AsyncSession, today: date) -> list[Row]:
    """Units valid on `today` whose Youth Union has neither an email nor a Zalo contact: their monthly
    reminders would reach nobody, so the operator is shown them."""
    u = store.units.c
    rows = await session.execute(
        select(u.code, u.name_vi, u.kind)
        .where(or_(u.valid_from.is_(None), u.valid_from <= today), or_(u.valid_to.is_(None), u.valid_to >= today))
        .where(or_(u.contact_email.is_(None), u.contact_email == ""))
        .where(or_(u.contact_zalo_user_id.is_(None), u.contact_zalo_user_id == ""))
        .order_by(u.code)
    )
    return [dict(code=r.code, name_vi=r.name_vi, kind=r.kind) for r in rows]


async def missing_reports(session: AsyncSession, month_key: str) -> list[str]:
    """Units expected for one month that have sent no report for it."""
    period = parse_period(month_key)
    expected = (await expected_units(session, period))[month_key]
    m = store.monthly_reports.c
    received = {u for (u,) in await session.execute(select(m.unit).where(m.period == month_key).distinct())}
    return [u for u in expected if u not in received]


# --- everything at once ----------------------------------------------------------------------------------------


async def summary(session: AsyncSession, period: Period, *, rollup: bool = False) -> Row:
    reports = await _reports(session, period)
    return dict(
        period=period.label,
        label_vi=period.label_vi,
        first_month=period.first_key,
        last_month=period.last_key,
        cases=await cases_summary(session, period, rollup=rollup),
        special_groups=await special_groups(session, period, rollup=rollup),
        age_bands=await age_bands(session, period),
        below_suggested_urgency=(await tallies(session, period, "urgency_floor")).get("below", 0),
        decisions=await tallies(session, period, "decision"),
        referrals=await referrals(session, period),
        tasks=await tallies(session, period, "task"),
        council=await council.counts(session, period),
        timings=await timings(session, period),
        breaches=await breaches(session, period),
        counseling=await counseling(session, period),
        unit_reports=await unit_reports(session, period, rollup=rollup, reports=reports),
        completeness=await completeness(session, period, rollup=rollup, reports=reports),
        activity=await activity(session, period),
        rollup=rollup,
    )
