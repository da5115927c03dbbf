"""Totals kept by quarter (`case_totals`, `stage_timings`): a quarter's rows are its months' rows summed, and a
year's its quarters'; a quarter's report from its kept rows equals the report read from its three months; the
projection, `recount` and migration 0012's backfill keep the same quarter rows (`recount` in key order)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from devtools.infra import REPO
from services.reporting import aggregates, figures, handlers, rebuild
from services.reporting.domain import Period, parse_period
from services.reporting.seed import seed_defaults
from shared.db import make_engine, make_session_factory
from shared.migrations import alembic_config
from tests.reporting.year import generate

MIGRATIONS = REPO / "services" / "reporting" / "migrations"
QUARTER = "left(period, 5) || 'Q' || ((substr(period, 6, 2)::int + 2) / 3)"
# Each table's quarter rows, and the same rows summed from its months (`report_first` is kept by month only).
KEPT = {
    "case_totals": (
        "SELECT period, dimension, unit, value, cases FROM reporting.case_totals"
        " WHERE period LIKE '____-Q_' AND cases <> 0",
        f"SELECT {QUARTER}, dimension, unit, value, sum(cases) FROM reporting.case_totals"
        f" WHERE period ~ '^[0-9]{{4}}-[0-9]{{2}}$' AND dimension <> 'report_first'"
        f" GROUP BY {QUARTER}, dimension, unit, value HAVING sum(cases) <> 0",
    ),
    "stage_timings": (
        "SELECT period, stage, urgency, cases, round(seconds::numeric, 3), max_seconds FROM reporting.stage_timings"
        " WHERE period LIKE '____-Q_'",
        f"SELECT {QUARTER}, stage, urgency, sum(cases), round(sum(seconds)::numeric, 3), max(max_seconds)"
        f" FROM reporting.stage_timings WHERE period ~ '^[0-9]{{4}}-[0-9]{{2}}$' GROUP BY {QUARTER}, stage, urgency",
    ),
}
# A year's rows and the same rows summed from its quarters.
YEARS = (
    "SELECT period, dimension, unit, value, cases FROM reporting.case_totals"
    " WHERE period ~ '^[0-9]{4}$' AND cases <> 0",
    "SELECT left(period, 4), dimension, unit, value, sum(cases) FROM reporting.case_totals WHERE period LIKE '____-Q_'"
    " GROUP BY left(period, 4), dimension, unit, value HAVING sum(cases) <> 0",
)


async def _rows(session: AsyncSession, query: str) -> set[tuple[Any, ...]]:
    return {tuple(row) for row in (await session.execute(text(query))).tuples()}


async def _months_only(session: AsyncSession, period: Period, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The summary of `period` read from its months' rows (as before quarters were kept)."""
    with monkeypatch.context() as patch:
        patch.setattr(Period, "keys", lambda self: [m.key for m in self.months()])
        figures._read_all_statement.cache_clear()
        figures._read_all_sql.cache_clear()
        try:
            return await figures.summary(session, period)
        finally:
            figures._read_all_statement.cache_clear()
            figures._read_all_sql.cache_clear()


async def test_kept_quarters_sum_their_months_and_read_as_their_months(database_url, monkeypatch):
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    year = generate(cases_per_month=3)
    try:
        async with sessions() as session, session.begin():
            await seed_defaults(session, REPO / "data")
        for start in range(0, len(year.envelopes), 200):  # into the event store, then projected by a rebuild
            async with sessions() as session, session.begin():
                chunk = year.envelopes[start : start + 200]
                await handlers.keep(session, [(envelope, envelope.event()) for envelope in chunk])
        async with sessions() as session, session.begin():
            assert await rebuild.rebuild(session, REPO / "data") == len(year.envelopes)

        async with sessions() as session:
            projected = {name: await _rows(session, kept) for name, (kept, _) in KEPT.items()}
            assert {p for p, *_ in projected["case_totals"]} == {f"2025-Q{q}" for q in range(1, 5)}
            for name, (_, summed) in KEPT.items():
                assert projected[name] == await _rows(session, summed), name
            assert await _rows(session, YEARS[0]) == await _rows(session, YEARS[1])
            for quarter in ("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"):
                period = parse_period(quarter)
                kept_summary = await figures.summary(session, period)
                assert kept_summary["cases"]["total"] > 0 and kept_summary["timings"]
                assert kept_summary == await _months_only(session, period, monkeypatch), quarter
            # a range that starts and ends inside quarters reads two quarters and two months
            span = parse_period("2025-03..2025-10")
            assert await figures.summary(session, span) == await _months_only(session, span, monkeypatch)

        async with sessions() as session, session.begin():
            await aggregates.recount(session)  # the bulk path keeps the same quarter rows
        async with sessions() as session:
            assert {name: await _rows(session, kept) for name, (kept, _) in KEPT.items()} == projected
            # ... written period after period, so that a period's rows lie together in the table
            for table, where in (("case_totals", "dimension NOT LIKE 'report%'"), ("stage_timings", "true")):
                back = text(
                    f"SELECT count(*) FROM (SELECT period < lag(period) OVER (ORDER BY ctid) AS back"
                    f" FROM reporting.{table} WHERE {where}) AS t WHERE back"
                )
                assert (await session.execute(back)).scalar_one() == 0, table

        # Migration 0012 fills the quarter rows from the month rows a database at 0011 holds.
        config = alembic_config(MIGRATIONS, database_url)
        await engine.dispose()
        await asyncio.to_thread(command.downgrade, config, "0011")
        async with sessions() as session:
            assert not any([await _rows(session, kept) for kept, _ in KEPT.values()])
        await asyncio.to_thread(command.upgrade, config, "head")
        async with sessions() as session:
            assert {name: await _rows(session, kept) for name, (kept, _) in KEPT.items()} == projected
    finally:
        await engine.dispose()
