"""Events a unit of work emits are written with one INSERT before the commit (`Outbox.later` / `flush`), in the
order they were emitted, also between events written at once (`Outbox.add`); none of a rolled-back transaction;
and a commit that would leave kept rows unwritten is refused rather than losing their events."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import event, select

from shared.clock import SystemClock
from shared.db import make_engine, make_session_factory
from shared.events import Envelope
from shared.outbox import Outbox
from shared.uow import unit_of_work
from tests.shared.toy import ToySchema, case_reported


@pytest.fixture
async def toy(empty_database_url: str):
    engine = make_engine(empty_database_url)
    schema = ToySchema()
    await schema.create(engine)
    yield engine, schema
    await engine.dispose()


def runtime(engine, schema: ToySchema) -> Any:
    return SimpleNamespace(
        sessions=make_session_factory(engine),
        outbox=Outbox(schema.outbox, "intake"),
        clock=SystemClock(),
        settings=None,
        signals=None,
    )


async def codes_in_outbox(engine, schema: ToySchema) -> list[str]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(schema.outbox.c.envelope).order_by(schema.outbox.c.id))).scalars()
        return [Envelope.model_validate_json(row).payload["code"] for row in rows]


async def test_a_unit_of_works_events_are_one_insert_in_the_order_emitted(toy) -> None:
    engine, schema = toy
    rt = runtime(engine, schema)
    inserts: list[str] = []

    def count(conn, cursor, statement: str, *args: object) -> None:
        if statement.startswith(f"INSERT INTO {schema.schema}.outbox"):
            inserts.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    async with unit_of_work(rt) as uow:
        await uow.emit(case_reported("A"))
        await uow.emit_many([(case_reported("B"), None, None), (case_reported("C"), None, None)])
        assert await codes_in_outbox(engine, schema) == []  # nothing written yet
    assert await codes_in_outbox(engine, schema) == ["A", "B", "C"]
    assert len(inserts) == 1

    inserts.clear()
    async with unit_of_work(rt) as uow:
        await uow.emit(case_reported("D"))
        await rt.outbox.add(uow.session, case_reported("E"))  # written at once: D is written before it
        await uow.emit(case_reported("F"))
    assert await codes_in_outbox(engine, schema) == ["A", "B", "C", "D", "E", "F"]
    assert len(inserts) == 3


async def test_a_rolled_back_unit_of_work_emits_nothing(toy) -> None:
    engine, schema = toy
    rt = runtime(engine, schema)
    with pytest.raises(ValueError):
        async with unit_of_work(rt) as uow:
            await uow.emit(case_reported("A"))
            await uow.session.execute(select(1))
            raise ValueError("the route failed")
    assert await codes_in_outbox(engine, schema) == []


async def test_a_commit_with_kept_rows_not_flushed_is_refused(toy) -> None:
    engine, schema = toy
    outbox = Outbox(schema.outbox, "intake")
    async with make_session_factory(engine)() as session:
        await session.begin()
        outbox.later(session, case_reported("A"))
        with pytest.raises(RuntimeError, match="never flushed"):
            await session.commit()
    assert await codes_in_outbox(engine, schema) == []
