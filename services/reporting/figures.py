"""The report queries: plain async functions of a session and a period, returning plain data.

Case figures read the pre-aggregated counters, independent of the number of cases: a report's totals from
`case_totals` and `stage_timings`, kept by month, quarter and year and summed over units where the report does not
show them (one query reads every total of a report: five years are a few thousand rows), the finest grain
(`case_counts`: month × unit × category × urgency × state) only for the tables that show it and for
roll-ups. Completeness reads the unit registry and the monthly reports (a few thousand rows for 2023–2027)
and is computed here.

Units are reported under the unit that existed at the time. `rollup=True` re-attributes figures of the
units that ended on 2025-06-30 to their successors: each old unit's figure is split in equal shares
among its successors (the mapping is many-to-many), so province totals stay exact while each new
unit's share is an approximation; rolled-up rows carry `approximate: true`.
"""

from __future__ import annotations

import bisect
import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, literal, or_, select, text, union_all
from sqlalchemy.dialects.postgresql import aggregate_order_by, asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import council, store
from services.reporting.domain import Period, parse_period
from shared.db import fetch_row

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


# dimension → [unit, value, cases] of the period in (unit, value) order, from `case_totals`; dimension "period"
# holds the months' totals. Grouped by dimension so that each figure reads only its own rows. The order is the
# code points' (the values are codes: units, categories, groups, bands), sorted here rather than by PostgreSQL:
# a sort under the database's collation cost more than the rest of a month's totals (~1,700 rows).
Totals = dict[str, list[Sequence[Any]]]
_CASE_DIMENSIONS = ("unit", "category", "urgency", "status")


async def totals(session: AsyncSession, period: Period, dimensions: tuple[str, ...] | None = None) -> Totals:
    """Every total of a report in one query over `case_totals` (whole years from the year rows, other whole
    quarters from the quarter rows, the other months from the month rows), and each month's number of cases
    (dimension `period`, summed from the months' `status` totals). `dimensions` limits the read to those
    (`period` included when asked for)."""
    out: Totals = {}
    for dimension, unit, value, n in (await session.execute(_totals_query(period, dimensions))).tuples():
        out.setdefault(dimension, []).append([unit, value, int(n)])
    return _ordered(out)


def _ordered(found: Totals) -> Totals:
    """Each dimension's rows in (unit, value) order (a unit and value occur once in a dimension)."""
    for rows in found.values():
        rows.sort()
    return found


def _totals_query(period: Period, dimensions: tuple[str, ...] | None = None) -> Any:
    """`totals`' query, unordered (a select or a union of two). A period of one key (a month, a quarter, a
    year) is its rows as kept; a longer one sums its keys' rows."""
    t = store.case_totals.c
    keys = period.keys()
    if len(keys) == 1:
        query = select(t.dimension, t.unit, t.value, t.cases).where(t.period == keys[0])
    else:
        query = select(t.dimension, t.unit, t.value, func.sum(t.cases).label("cases")).where(t.period.in_(keys))
    if dimensions is not None:
        query = query.where(t.dimension.in_(dimensions))
    if len(keys) > 1:
        query = query.group_by(t.dimension, t.unit, t.value)
    if dimensions is None or "period" in dimensions:
        by_month = (
            select(literal("period").label("dimension"), literal("").label("unit"), t.period, func.sum(t.cases))
            .where(t.period.in_([m.key for m in period.months()]), t.dimension == "status")
            .group_by(t.period)
        )
        return union_all(query, by_month)
    return query


async def cases_summary(
    session: AsyncSession, period: Period, *, rollup: bool = False, found: Totals | None = None
) -> Row:
    """Total and cases by month, unit, category, urgency and state.

    Without roll-up, from `case_totals` (`found` lets `summary` read them once for every figure): five years
    at a million cases are a few hundred rows instead of the ~240,000 fine counter rows. With roll-up the
    equal shares are rounded per fine row (see `roll_up`), so the totals are summed from the rolled-up fine
    rows, exactly as before.
    """
    if rollup:
        rows = await case_counts(session, period, rollup=True)
        return {"total": sum(r["cases"] for r in rows), **{f"by_{d}": totals_by(rows, d) for d in DIMENSIONS}}
    if found is None:
        found = await totals(session, period, ("period", *_CASE_DIMENSIONS))
    # a value whose cases all moved on (a state) is not shown, as before
    by = {d: {value: n for _unit, value, n in found.get(d, ()) if n > 0} for d in DIMENSIONS}
    return {"total": sum(by["period"].values()), **{f"by_{d}": dict(sorted(by[d].items())) for d in DIMENSIONS}}


async def special_groups(
    session: AsyncSession, period: Period, *, rollup: bool = False, found: Totals | None = None
) -> list[Row]:
    """Cases by special-circumstance group (Law on Children Art. 10) and unit; a case may be in several."""
    if found is None:
        found = await totals(session, period, ("group",))
    rows = [{"unit": u, "grp": grp, "cases": n} for u, grp, n in found.get("group", ())]
    return roll_up(rows, await successors(session), ("cases",)) if rollup else rows


async def tallies(
    session: AsyncSession, period: Period, dimension: str, *, found: Totals | None = None
) -> dict[str, int]:
    """Cases of the period by one `case_tallies` dimension (`age_band`, `urgency_floor`, `decision`)."""
    if found is None:
        found = await totals(session, period, (dimension,))
    return {value: n for _unit, value, n in found.get(dimension, ())}


async def age_bands(session: AsyncSession, period: Period, *, found: Totals | None = None) -> dict[str, int]:
    """Cases by age band. Children are under 16 (0-5, 6-10, 11-15); 16-17 are minors, counted apart."""
    return await tallies(session, period, "age_band", found=found)


async def referrals(session: AsyncSession, period: Period, *, found: Totals | None = None) -> list[Row]:
    """Referrals made in the period by recipient, and how many of them were acknowledged."""
    if found is None:
        found = await totals(session, period, ("referral", "referral_ack"))
    made = await tallies(session, period, "referral", found=found)
    acknowledged = await tallies(session, period, "referral_ack", found=found)
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
    by urgency (hours: mean and maximum). From `stage_timings` (by month, quarter and year, summed over units)."""
    return _timings((await session.execute(_timings_query(period))).tuples())


def _timings_query(period: Period) -> Select[Any]:
    t = store.stage_timings.c
    return (
        select(t.stage, t.urgency, func.sum(t.cases), func.sum(t.seconds), func.max(t.max_seconds))
        .where(t.period.in_(period.keys()))
        .group_by(t.stage, t.urgency)
    )


def _timings(result: Iterable[Sequence[Any]]) -> list[Row]:
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
    query = _breaches_query(period).order_by(text("deadline, urgency, subject, level"))
    return _breaches((await session.execute(query)).tuples())


def _breaches_query(period: Period) -> Select[Any]:
    b = store.breaches.c
    return (
        select(b.deadline, b.urgency, b.subject, b.level, func.count().label("breaches"))
        .where(_in(period, b.period))
        .group_by(b.deadline, b.urgency, b.subject, b.level)
    )


def _breaches(result: Iterable[Sequence[Any]]) -> list[Row]:
    names = ("deadline", "urgency", "subject", "level", "breaches")
    return [dict(zip(names, row, strict=True)) for row in result]


# --- counseling and notifications ----------------------------------------------------------------------


async def counseling(session: AsyncSession, period: Period) -> list[Row]:
    """Counseling requests received in the period by topic and channel, with how many are answered."""
    query = _counseling_query(period).order_by(text("topic, channel"))
    return _counseling((await session.execute(query)).tuples())


def _counseling_query(period: Period) -> Select[Any]:
    r = store.counseling_requests.c
    return (
        select(r.topic, r.channel, func.count().label("requests"), func.count(r.answered_at).label("answered"))
        .where(_in(period, r.period))
        .group_by(r.topic, r.channel)
    )


def _counseling(result: Iterable[Sequence[Any]]) -> list[Row]:
    return [
        {"topic": topic, "channel": channel, "requests": n, "answered": answered, "waiting": n - answered}
        for topic, channel, n, answered in result
    ]


async def counseling_waiting(session: AsyncSession) -> int:
    r = store.counseling_requests.c
    return int((await session.execute(select(func.count()).where(r.answered_at.is_(None)))).scalar_one())


async def activity(session: AsyncSession, period: Period) -> list[Row]:
    """Notifications sent/failed by channel and member changes by reason."""
    query = _activity_query(period).order_by(text("metric, key"))
    return _activity((await session.execute(query)).tuples())


def _activity_query(period: Period) -> Select[Any]:
    a = store.activity_counts.c
    return select(a.metric, a.key, func.sum(a.n).label("n")).where(_in(period, a.period)).group_by(a.metric, a.key)


def _activity(result: Iterable[Sequence[Any]]) -> list[Row]:
    return [{"metric": metric, "key": key, "n": int(n)} for metric, key, n in result]


# --- the units' monthly reports ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reports:
    """The units' monthly reports of a period: per unit, each month's first revision `on_time` or `late`, and
    the sums of the latest revisions per unit (`unit_reports`' rows, before roll-up)."""

    firsts: dict[str, dict[str, str]]
    sums: dict[str, Row]


async def _reports(session: AsyncSession, period: Period, *, found: Totals | None = None) -> Reports:
    """Whether each unit-month's first revision was on time, and the sums of the latest revisions per unit:
    both kept in `case_totals` by the projection (`report_first` by month, `report` by month, quarter and year), so a
    period's reports are one unit-month row each (the grid needs them) and a few hundred sums."""
    firsts = (await session.execute(_report_firsts_query(period))).tuples()
    if found is None:
        found = await totals(session, period, ("report",))
    return _reports_of(firsts, found)


def _report_firsts_query(period: Period) -> Select[Any]:
    t = store.case_totals.c
    # One row per unit with its months and states as arrays: thousands of unit-months come back as ~100 rows.
    return (
        select(t.unit, func.array_agg(t.period), func.array_agg(t.value))
        .where(t.period.in_([m.key for m in period.months()]), t.dimension == "report_first", t.cases > 0)
        .group_by(t.unit)
    )


def _reports_of(firsts: Iterable[Sequence[Any]], found: Totals) -> Reports:
    by_unit = {unit: dict(zip(months, values, strict=True)) for unit, months, values in firsts}
    sums: dict[str, Row] = {}
    for unit, name, n in found.get("report", ()):
        if not n:
            continue
        row = sums.setdefault(unit, dict(unit=unit, reports=0, activities_held=0, cases=0))
        row[name] = n
        if name.startswith("cases:"):
            row["cases"] += n
    return Reports(by_unit, sums)


async def unit_reports(
    session: AsyncSession, period: Period, *, rollup: bool = False, reports: Reports | None = None
) -> list[Row]:
    """The units' monthly situation reports summed per unit (latest revision of each unit and month).

    `reports` lets `summary` read the monthly reports once for this and `completeness`."""
    if reports is None:
        reports = await _reports(session, period)
    rows = [reports.sums[unit] for unit in sorted(reports.sums)]
    if rollup:
        keys = tuple(sorted({k for r in rows for k in r if k != "unit"}))
        rows = roll_up([{k: r.get(k, 0) for k in ("unit", *keys)} for r in rows], await successors(session), keys)
    return rows


# --- completeness and timeliness (DHIS2 style) ---------------------------------------------------------------


def _months_valid(unit: Row) -> tuple[str, str]:
    """The first and last month a unit existed in, as month keys ("0000-00" and "9999-99" when open): a unit
    existed during a month when it began on or before the month's last day and ended on or after its first."""
    start, end = unit["valid_from"], unit["valid_to"]
    return (
        f"{start.year:04d}-{start.month:02d}" if start is not None else "0000-00",
        f"{end.year:04d}-{end.month:02d}" if end is not None else "9999-99",
    )


async def _units(session: AsyncSession) -> list[Row]:
    return _units_of((await session.execute(_units_query().order_by(text("code")))).tuples())


def _units_query() -> Select[Any]:
    col = store.units.c
    return select(col.code, col.name_vi, col.valid_from, col.valid_to)


def _units_of(rows: Iterable[Sequence[Any]]) -> list[Row]:
    return [
        {"code": code, "name_vi": name, "valid_from": valid_from, "valid_to": valid_to}
        for code, name, valid_from, valid_to in rows
    ]


async def expected_units(
    session: AsyncSession, period: Period, *, units: list[Row] | None = None
) -> dict[str, list[str]]:
    """Per month of the period, the units that existed during it (expected to report)."""
    if units is None:
        units = await _units(session)
    spans = [(u["code"], *_months_valid(u)) for u in units]  # compared as month keys: one string test each
    keys = [m.key for m in period.months()]  # once per month, not once per unit and month
    return {key: [code for code, first, last in spans if first <= key <= last] for key in keys}


async def completeness(
    session: AsyncSession,
    period: Period,
    *,
    rollup: bool = False,
    reports: Reports | None = None,
    units: list[Row] | None = None,
) -> Row:
    """Expected, received, on time, late and missing monthly reports per unit and in total, with rates.

    As in DHIS2: expected = unit-months in which the unit existed; received = expected unit-months with a
    report (any revision); on time = received whose first revision met its due date; rate = received /
    expected; on-time rate = on time / expected. Reports for months a unit did not exist are counted
    apart (`unexpected`).
    """
    if reports is None:
        reports = await _reports(session, period)
    if units is None:
        units = await _units(session)  # one read of the registry for the names and the units expected
    names = {u["code"]: u["name_vi"] for u in units}
    months = [m.key for m in period.months()]
    # A unit existed during a contiguous run of months: the period's months from index `i` to `j` (excluded).
    spans = {}
    for unit in units:
        first, last = _months_valid(unit)
        spans[unit["code"]] = (bisect.bisect_left(months, first), bisect.bisect_right(months, last))
    per_unit: list[Row] = []
    grid: list[Row] = []
    for code, (i, j) in spans.items():
        if i >= j:
            continue
        states = reports.firsts.get(code, {})
        in_span = [states[month] for month in months[i:j] if month in states]
        on_time = in_span.count("on_time")
        received = len(in_span)
        per_unit.append(
            dict(unit=code, expected=j - i, received=received, on_time=on_time, late=received - on_time,
                 missing=j - i - received)
        )  # fmt: skip
        if not rollup:  # each month's state, None when the unit did not exist (units as they were: never rolled up)
            grid.append(
                dict(
                    unit=code,
                    unit_name=names.get(code, code),
                    months={
                        month: states.get(month, "missing") if i <= k < j else None for k, month in enumerate(months)
                    },
                )
            )
    # reports for months a unit did not exist in (or of a unit not in the registry)
    unexpected = 0
    for code, states in reports.firsts.items():
        i, j = spans.get(code, (0, 0))
        unexpected += sum(1 for month in states if not (i < j and months[i] <= month <= months[j - 1]))
    rows = sorted(per_unit, key=lambda r: r["unit"])
    grid.sort(key=lambda r: r["unit"])
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
    last = len(months) - 1
    missing_now = [
        dict(unit=code, unit_name=names.get(code, code))
        for code, (i, j) in spans.items()
        if i <= last < j and months[last] not in reports.firsts.get(code, {})
    ]
    return dict(
        period=period.label,
        rows=rows,
        total=total,
        unexpected=unexpected,
        missing_last_month=missing_now,
        months=months,
        grid=grid,
    )


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
    """Every figure of a report. Its queries go to the database as one statement (each result set as a JSON
    array, in the order the separate queries return): a report is one round trip, whatever its period."""
    read = await _read_all(session, period)
    found = _ordered(read["totals"])
    reports = _reports_of(read["report_firsts"], found)
    return dict(
        period=period.label,
        label_vi=period.label_vi,
        first_month=period.first_key,
        last_month=period.last_key,
        cases=await cases_summary(session, period, rollup=rollup, found=found),
        special_groups=await special_groups(session, period, rollup=rollup, found=found),
        age_bands=await age_bands(session, period, found=found),
        below_suggested_urgency=(await tallies(session, period, "urgency_floor", found=found)).get("below", 0),
        decisions=await tallies(session, period, "decision", found=found),
        referrals=await referrals(session, period, found=found),
        tasks=await tallies(session, period, "task", found=found),
        council=dict(zip(COUNCIL_COUNTS, read["council"][0], strict=True)),
        timings=_timings(read["timings"]),
        breaches=_breaches(read["breaches"]),
        counseling=_counseling(read["counseling"]),
        unit_reports=await unit_reports(session, period, rollup=rollup, reports=reports),
        completeness=await completeness(
            session, period, rollup=rollup, reports=reports, units=_units_of(_dated(read["units"], (2, 3)))
        ),
        activity=_activity(read["activity"]),
        rollup=rollup,
    )


COUNCIL_COUNTS = ("requests", "advised", "followed_up", "waiting", "follow_ups")


def _json_rows(query: Any, order: tuple[str, ...] = ()) -> Any:
    """A query's rows as one JSON array of arrays (`[]` when none), ordered by `order` as ORDER BY would."""
    rows = query.subquery()
    row = func.json_build_array(*rows.c)
    agg = func.json_agg(aggregate_order_by(row, *(rows.c[name] for name in order)) if order else row)
    return select(func.coalesce(agg, text("'[]'::json"))).scalar_subquery()


def _json_by_dimension(query: Any) -> Any:
    """`totals`' rows as one JSON object: dimension → array of [unit, value, cases] (unordered: see `Totals`)."""
    rows = query.subquery()
    row = func.json_build_array(rows.c.unit, rows.c.value, rows.c.cases)
    grouped = select(rows.c.dimension, func.json_agg(row).label("rows")).group_by(rows.c.dimension).subquery()
    agg = func.json_object_agg(grouped.c.dimension, grouped.c.rows)
    return select(func.coalesce(agg, text("'{}'::json"))).scalar_subquery()


@functools.lru_cache(maxsize=64)
def _read_all_statement(period: Period) -> Any:
    """`_read_all`'s statement, built once per period: building it and its cache key cost milliseconds."""
    parts = {
        "totals": _json_by_dimension(_totals_query(period)),
        "report_firsts": _json_rows(_report_firsts_query(period)),
        "council": _json_rows(council.counts_query(period)),
        "timings": _json_rows(_timings_query(period)),
        "breaches": _json_rows(_breaches_query(period), ("deadline", "urgency", "subject", "level")),
        "counseling": _json_rows(_counseling_query(period), ("topic", "channel")),
        "units": _json_rows(_units_query(), ("code",)),
        "activity": _json_rows(_activity_query(period), ("metric", "key")),
    }
    return select(*(q.label(name) for name, q in parts.items()))


@functools.lru_cache(maxsize=64)
def _read_all_sql(period: Period) -> str:
    """`_read_all`'s statement as SQL text, its values written in (period keys and dates, from `Period`)."""
    return str(_read_all_statement(period).compile(dialect=asyncpg.dialect(), compile_kwargs={"literal_binds": True}))


async def _read_all(session: AsyncSession, period: Period) -> dict[str, Any]:
    """Every part of a summary, from one statement sent to the driver on the session's connection: one round
    trip. Through `session.execute` SQLAlchemy would first open a transaction (BEGIN, and ROLLBACK when the
    session closes: two more round trips, which on a busy machine cost as much as the statement); one statement
    reads one snapshot without it. Inside a transaction the session already opened, it reads within that."""
    row = await fetch_row(await session.connection(), _read_all_sql(period))
    assert row is not None  # one row of aggregates, whatever the period
    # asyncpg hands JSON over as text unless a codec decodes it (SQLAlchemy's dialect installs one)
    return {name: json.loads(v) if isinstance(v, str) else v for name, v in row.items()}


def _dated(rows: list[list[Any]], columns: tuple[int, ...]) -> list[list[Any]]:
    """Rows whose `columns` are dates written as JSON strings (or null), with the dates back."""
    for row in rows:
        for i in columns:
            if row[i] is not None:
                row[i] = date.fromisoformat(row[i])
    return rows
