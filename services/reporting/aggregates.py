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


async def recount(session: AsyncSession) -> None:
    """Replace the case counters with counts of the `cases` table (inside the caller's transaction)."""
    for table in (store.case_counts, store.case_group_counts, store.case_timings):
        await session.execute(delete(table))
    # Referral tallies come from referral events, not from `cases`: only the case tallies are recounted.
    await session.execute(delete(store.case_tallies).where(store.case_tallies.c.dimension.in_(_CASE_DIMENSIONS)))
    for statement in (_COUNTS, _GROUPS, _AGE_BANDS, _BELOW_FLOOR, _TIMINGS):
        await session.execute(text(statement))
