"""A unit's monthly report counts once per month whatever order its revisions arrive in: sums from the latest
revision, timeliness from the first; the totals the projection keeps agree with a recount."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from devtools.infra import REPO
from services.reporting import aggregates, figures, projection
from services.reporting.domain import parse_period
from services.reporting.seed import seed_defaults
from shared.db import make_engine, make_session_factory
from shared.events import Envelope
from shared.events.intake import MonthlyReportSubmitted


def _revision(unit: str, period: str, revision: int, *, on_time: bool, neglect: int, held: int) -> Envelope:
    event = MonthlyReportSubmitted(
        report_id=uuid.uuid4(),
        unit=unit,
        period=period,
        revision=revision,
        submitted_at=datetime(2026, 3, 1 + revision, 2, 0, tzinfo=UTC),
        due_on=date(2026, 3, 5),
        on_time=on_time,
        cases_by_category={"neglect": neglect},
        special_circumstances_known={"a": revision},
        activities_held=held,
    )
    return Envelope.wrap(event, producer="intake")


async def test_revisions_count_the_same_in_any_order_and_agree_with_a_recount(database_url):
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            await seed_defaults(session, REPO / "data")  # the unit registry: which units are expected
        revisions = {
            unit: [
                _revision(unit, "2026-02", 1, on_time=True, neglect=3, held=1),
                _revision(unit, "2026-02", 2, on_time=False, neglect=5, held=2),
                _revision(unit, "2026-02", 3, on_time=False, neglect=4, held=0),
            ]
            for unit in ("phuong-tan-ninh", "phuong-binh-minh", "xa-tan-thanh")
        }
        orders = {"phuong-tan-ninh": (0, 1, 2), "phuong-binh-minh": (2, 0, 1), "xa-tan-thanh": (1, 2, 0)}
        for unit, order in orders.items():
            for i in order:  # one transaction each, as separate deliveries
                async with sessions() as session, session.begin():
                    await projection.apply(session, revisions[unit][i])
                    await projection.flush(session)
            async with sessions() as session, session.begin():  # a redelivery changes nothing
                await projection.apply(session, revisions[unit][order[0]])
                await projection.flush(session)

        async def figures_of(text: str) -> tuple[list[dict], dict]:
            async with sessions() as session:
                period = parse_period(text)
                return await figures.unit_reports(session, period), await figures.completeness(session, period)

        for text in ("2026-02", "2026", "2025..2027"):
            rows, completeness = await figures_of(text)
            assert {r["unit"]: r for r in rows} == {
                unit: {
                    "unit": unit,
                    "reports": 1,
                    "activities_held": 0,
                    "cases": 4,
                    "cases:neglect": 4,
                    "special:a": 3,
                }
                for unit in orders
            }
            grid = {g["unit"]: g["months"]["2026-02"] for g in completeness["grid"] if g["unit"] in orders}
            assert grid == dict.fromkeys(orders, "on_time")
            async with sessions() as session, session.begin():
                await aggregates.recount(session)
            assert await figures_of(text) == (rows, completeness)
    finally:
        await engine.dispose()
