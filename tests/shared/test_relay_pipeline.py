"""The relay's pipeline: the next batch is claimed and sent while the previous one waits for its confirms, and a
key whose row was not confirmed in one batch has its later rows, sent in the next, left pending too."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from shared.db import make_engine, make_session_factory
from shared.outbox import Outbox
from shared.publisher import Outgoing
from shared.relay import OutboxRelay, PublishIncomplete
from tests.shared.toy import ToySchema, case_reported


class FakePublisher:
    """Records what is sent, batch by batch; the test decides when and how each batch is confirmed."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []  # the codes of each `send`, in order
        self.released: list[asyncio.Event] = []
        self.refuse: set[str] = set()  # codes the broker does not confirm
        self._batch_of: dict[int, int] = {}  # id of a `send`'s list of futures -> its batch

    async def send(self, items: list[Outgoing]) -> list[asyncio.Future[Any]]:
        self.batches.append([json.loads(message.body)["payload"]["code"] for message in items])
        self.released.append(asyncio.Event())
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Any]] = [loop.create_future() for _ in items]
        self._batch_of[id(futures)] = len(self.batches) - 1
        return futures

    async def confirmed(self, tasks: list[asyncio.Future[Any]]) -> list[bool]:
        batch = self._batch_of[id(tasks)]
        await self.released[batch].wait()
        return [code not in self.refuse for code in self.batches[batch]]


@pytest.fixture
async def toy(empty_database_url: str):
    engine = make_engine(empty_database_url)
    schema = ToySchema()
    await schema.create(engine)
    yield engine, schema, empty_database_url
    await engine.dispose()


async def _add(engine, schema: ToySchema, rows: list[tuple[str, uuid.UUID]]) -> None:
    outbox = Outbox(schema.outbox, "intake")
    async with make_session_factory(engine)() as session, session.begin():
        for code, key in rows:
            await outbox.add(session, case_reported(code, key), key=key)


async def _pending(engine, schema: ToySchema) -> list[str]:
    t = schema.outbox
    async with engine.connect() as conn:
        rows = await conn.execute(select(t.c.envelope).where(t.c.published_at.is_(None)).order_by(t.c.id))
        return [json.loads(envelope)["payload"]["code"] for (envelope,) in rows]


def _relay(engine, schema: ToySchema, url: str, publisher: FakePublisher) -> OutboxRelay:
    return OutboxRelay(
        service="intake", engine=engine, database_url=url, table=schema.outbox, publisher=publisher, batch_size=2
    )  # type: ignore[arg-type]


async def test_the_next_batch_is_claimed_and_sent_while_the_previous_waits_for_its_confirms(toy) -> None:
    engine, schema, url = toy
    await _add(engine, schema, [(f"TN-2026-00000{i}", uuid.uuid4()) for i in range(1, 6)])
    publisher = FakePublisher()
    drain = asyncio.create_task(_relay(engine, schema, url, publisher).drain())
    # The first batch is not confirmed until the second has been sent: without the pipeline, this never ends.
    async with asyncio.timeout(10):
        while len(publisher.batches) < 2:
            await asyncio.sleep(0.01)
    assert publisher.batches == [["TN-2026-000001", "TN-2026-000002"], ["TN-2026-000003", "TN-2026-000004"]]
    assert len(publisher.batches) == 2  # at most two batches in flight
    for release in publisher.released:
        release.set()
    async with asyncio.timeout(10):
        while len(publisher.batches) < 3:
            await asyncio.sleep(0.01)
    publisher.released[2].set()
    assert await asyncio.wait_for(drain, 10) == 5
    assert await _pending(engine, schema) == []


async def test_a_key_with_a_row_in_flight_sends_none_in_the_next_batch(toy) -> None:
    """Rows A1, B1 | A2, C1 (batches of two). While A1 waits for its confirm, the next batch sends C1 but not
    A2: had A1's frames been lost with a broken connection and A2 gone out on the reconnected one, A2 would
    arrive first. A1 is refused: A1 and A2 stay pending and go out again, in order."""
    engine, schema, url = toy
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await _add(
        engine, schema, [("TN-2026-0000A1", a), ("TN-2026-0000B1", b), ("TN-2026-0000A2", a), ("TN-2026-0000C1", c)]
    )
    publisher = FakePublisher()
    publisher.refuse = {"TN-2026-0000A1"}
    drain = asyncio.create_task(_relay(engine, schema, url, publisher).drain())
    async with asyncio.timeout(10):
        while len(publisher.batches) < 2:
            await asyncio.sleep(0.01)
    assert publisher.batches[1] == ["TN-2026-0000C1"]  # A2 waits for A1's batch
    for release in publisher.released:
        release.set()
    with pytest.raises(PublishIncomplete):
        await asyncio.wait_for(drain, 10)
    assert await _pending(engine, schema) == ["TN-2026-0000A1", "TN-2026-0000A2"]

    publisher.refuse = set()
    again = asyncio.create_task(_relay(engine, schema, url, publisher).drain())
    async with asyncio.timeout(10):
        while len(publisher.batches) < 3:
            await asyncio.sleep(0.01)
    publisher.released[2].set()
    assert await asyncio.wait_for(again, 10) == 2
    assert publisher.batches[2] == ["TN-2026-0000A1", "TN-2026-0000A2"]
    assert await _pending(engine, schema) == []
