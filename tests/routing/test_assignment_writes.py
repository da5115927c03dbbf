"""`assignments.WRITES`: a batch's assignments and timers written in the WITH clause of another statement
(the assigner's settling UPDATE) are the rows `AssignmentBatch.write` writes, whatever the batch's size."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import literal, select

from services.routing import store
from services.routing.assignments import ASSIGNMENT_COLUMNS, TIMER_COLUMNS, WRITES, AssignmentBatch
from services.routing.cases import case_deadlines
from services.routing.pool import load_pool
from services.routing.seed import seed
from shared.db import make_engine, make_session_factory
from tests.routing.support import START, routing_settings


def _fill(batch: AssignmentBatch, members: list[Any]) -> tuple[uuid.UUID, uuid.UUID]:
    """A critical case with two fields and a board place (no field), and a counseling request."""
    case_id, request_id = uuid.uuid4(), uuid.uuid4()
    case = type("Case", (), {"urgency": "critical", "protection_level": "intervention", "reported_at": START})
    case.learned_at = START
    batch.add_timers(case_deadlines(batch.settings, case), case_id, None)
    batch.add(members[0], "law", "critical", case_id=case_id)
    batch.add(members[1], "psychology", "critical", case_id=case_id)
    batch.add(members[2], None, "critical", case_id=case_id)
    batch.add(members[3], "psychology", "medium", request_id=request_id)
    return case_id, request_id


async def _rows(session: Any, subjects: tuple[uuid.UUID, uuid.UUID]) -> tuple[list[dict], list[dict]]:
    a, t = store.assignments.c, store.timers.c
    assignments = await session.execute(
        select(*(a[n] for n in ASSIGNMENT_COLUMNS)).where(a.case_id.in_(subjects) | a.request_id.in_(subjects))
    )
    timers = await session.execute(
        select(*(t[n] for n in TIMER_COLUMNS)).where(t.case_id.in_(subjects) | t.request_id.in_(subjects))
    )
    key = lambda row: sorted((k, str(v)) for k, v in row.items())  # noqa: E731
    return sorted((dict(r._mapping) for r in assignments), key=key), sorted((dict(r._mapping) for r in timers), key=key)


async def test_the_batchs_rows_written_in_a_with_clause_are_those_write_writes(base_env):
    settings = routing_settings(base_env)
    await seed(settings)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            members = list((await load_pool(session, START)).rows.values())

            batch = AssignmentBatch(settings, START)
            subjects = _fill(batch, members)
            expected_assignments = sorted(batch.rows, key=lambda r: str(r["assignment_id"]))
            expected_timers = list(batch.timers)
            await session.execute(select(literal(1)).add_cte(*WRITES), batch.params())
            assert batch.rows == [] and batch.timers == []
            assignments, timers = await _rows(session, subjects)
            assert sorted(assignments, key=lambda r: str(r["assignment_id"])) == expected_assignments
            assert len(timers) == len(expected_timers) > 4
            assert sorted(timers, key=str) == sorted(
                ({name: t.get(name) for name in TIMER_COLUMNS} for t in expected_timers), key=str
            )

            # The same batch through `write`: the same rows, but for the ids.
            other = AssignmentBatch(settings, START)
            others = _fill(other, members)
            await other.write(session)
            strip = ("assignment_id", "case_id", "request_id")
            again, again_timers = await _rows(session, others)
            assert sorted(({k: v for k, v in r.items() if k not in strip} for r in again), key=str) == sorted(
                ({k: v for k, v in r.items() if k not in strip} for r in assignments), key=str
            )
            assert len(again_timers) == len(timers)

            # An empty batch writes nothing.
            before = await _rows(session, subjects)
            await session.execute(select(literal(1)).add_cte(*WRITES), AssignmentBatch(settings, START).params())
            assert await _rows(session, subjects) == before
    finally:
        await engine.dispose()
