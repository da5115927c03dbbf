"""Recompute the pre-aggregated counters from the `cases` fact table in a few statements.

The live path keeps counters up to date event by event (`projection`); this is for whoever fills
`cases` directly (the benchmark at a million cases, a data import) and for checking that the counters
agree with the facts.
"""

from __future__ import annotations

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import store

_COUNTS = """
INSERT INTO reporting.case_counts (period, unit, category, urgency, status, cases)
SELECT period, unit, category, urgency, status, count(*) FROM reporting.cases
GROUP BY period, unit, category, urgency, status
"""
_GROUPS = """
INSERT INTO reporting.case_group_counts (period, unit, grp, cases)
SELECT period, unit, grp, count(*) FROM reporting.cases, unnest(special_circumstances) AS grp
GROUP BY period, unit, grp
"""
_CASE_DIMENSIONS = ("age_band", "urgency_floor")
_AGE_BANDS = """
INSERT INTO reporting.case_tallies (period, unit, dimension, value, cases)
SELECT period, unit, 'age_band', coalesce(age_band, 'unknown'), count(*) FROM reporting.cases
GROUP BY period, unit, coalesce(age_band, 'unknown')
"""
_BELOW_FLOOR = """
INSERT INTO reporting.case_tallies (period, unit, dimension, value, cases)
SELECT period, unit, 'urgency_floor', 'below', count(*) FROM reporting.cases WHERE below_suggested_urgency
GROUP BY period, unit
"""
_TIMINGS = """
INSERT INTO reporting.case_timings (period, unit, urgency, stage, cases, seconds, max_seconds)
SELECT period, unit, urgency, stage, count(*), sum(s), max(s) FROM (
    SELECT period, unit, urgency, 'assigned' AS stage,
           greatest(extract(epoch FROM assigned_at - reported_at), 0) AS s
      FROM reporting.cases WHERE assigned_at IS NOT NULL
    UNION ALL
    SELECT period, unit, urgency, 'accepted', greatest(extract(epoch FROM accepted_at - reported_at), 0)
      FROM reporting.cases WHERE accepted_at IS NOT NULL
    UNION ALL
    SELECT period, unit, urgency, 'forwarded', greatest(extract(epoch FROM forwarded_at - reported_at), 0)
      FROM reporting.cases WHERE forwarded_at IS NOT NULL
) AS t GROUP BY period, unit, urgency, stage
"""

# The month's, the quarter's and the year's totals (`store.case_totals`, `store.stage_timings`), summed from the
# counters: each month row `t` counted under the keys of `domain.kept_keys` ("2026-08", "2026-Q3", "2026"). Written
# in key order, so that a period's rows lie together as when the projection writes them month after month (in
# the hash aggregate's order a month's ~1,700 rows lay on 414 of the table's 724 pages at 1,000,000 cases).
_KEPT = (
    "LATERAL (VALUES (t.period), (left(t.period, 5) || 'Q' || ((substr(t.period, 6, 2)::int + 2) / 3)),"
    " (left(t.period, 4))) AS k(period)"
)
_TOTALS = f"""
INSERT INTO reporting.case_totals (period, dimension, unit, value, cases)
SELECT k.period, dimension, unit, value, sum(cases) FROM (
    SELECT period, 'unit' AS dimension, '' AS unit, unit AS value, cases FROM reporting.case_counts
    UNION ALL SELECT period, 'category', '', category, cases FROM reporting.case_counts
    UNION ALL SELECT period, 'urgency', '', urgency, cases FROM reporting.case_counts
    UNION ALL SELECT period, 'status', '', status, cases FROM reporting.case_counts
    UNION ALL SELECT period, 'group', unit, grp, cases FROM reporting.case_group_counts
    UNION ALL SELECT period, dimension, '', value, cases FROM reporting.case_tallies
) AS t, {_KEPT}
GROUP BY k.period, dimension, unit, value ORDER BY k.period, dimension, unit, value
"""
_STAGE_TIMINGS = f"""
INSERT INTO reporting.stage_timings (period, stage, urgency, cases, seconds, max_seconds)
SELECT k.period, stage, urgency, sum(cases), sum(seconds), max(max_seconds) FROM reporting.case_timings AS t,
{_KEPT}
GROUP BY k.period, stage, urgency ORDER BY k.period, stage, urgency
"""
# The units' monthly reports in `case_totals`: the latest revision's sums by month, quarter and year, the first
# revision's timeliness by month (as `projection.monthly_report` keeps them).
_REPORT_TOTALS = f"""
INSERT INTO reporting.case_totals (period, dimension, unit, value, cases)
SELECT k.period, 'report', unit, name, sum(n) FROM (
    SELECT period, unit, name, n FROM (
        SELECT DISTINCT ON (unit, period) * FROM reporting.monthly_reports ORDER BY unit, period, revision DESC
    ) AS latest, LATERAL (
        SELECT 'reports' AS name, 1::bigint AS n
        UNION ALL SELECT 'activities_held', activities_held
        UNION ALL SELECT 'cases:' || key, value::bigint FROM jsonb_each_text(cases_by_category)
        UNION ALL SELECT 'special:' || key, value::bigint FROM jsonb_each_text(special_circumstances_known)
    ) AS sums
) AS t, {_KEPT}
GROUP BY k.period, unit, name ORDER BY k.period, unit, name
"""
_REPORT_FIRST = """
INSERT INTO reporting.case_totals (period, dimension, unit, value, cases)
SELECT DISTINCT ON (unit, period) period, 'report_first', unit,
       CASE WHEN on_time <> 0 THEN 'on_time' ELSE 'late' END, 1
FROM reporting.monthly_reports ORDER BY unit, period, revision
"""
# Every statement `recount` runs after emptying the counters, in order (the totals last: they sum the others).
COUNTERS = (_COUNTS, _GROUPS, _AGE_BANDS, _BELOW_FLOOR, _TIMINGS)
TOTALS = (_TOTALS, _STAGE_TIMINGS, _REPORT_TOTALS, _REPORT_FIRST)


async def recount(session: AsyncSession) -> None:
    """Replace the case counters with counts of the `cases` table (inside the caller's transaction)."""
    counters = (store.case_counts, store.case_group_counts, store.case_timings, store.case_totals, store.stage_timings)
    for table in counters:
        await session.execute(delete(table))
    # Referral tallies come from referral events, not from `cases`: only the case tallies are recounted.
    await session.execute(delete(store.case_tallies).where(store.case_tallies.c.dimension.in_(_CASE_DIMENSIONS)))
    for statement in (*COUNTERS, *TOTALS):
        await session.execute(text(statement))
