"""`make_engine`'s pool serves callers waiting for a connection in the order they came (`shared.fair_pool`):
a caller arriving as a connection comes back does not take it from those already waiting, and a waiter that
gives up after a connection was handed to it passes the connection on."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from shared.db import make_engine


async def test_waiting_callers_are_served_in_order(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)  # two connections
    served: list[str] = []

    async def use(name: str) -> None:
        async with engine.connect() as conn:
            served.append(name)
            await conn.execute(text("SELECT 1"))

    try:
        kept = await engine.connect()  # one connection stays busy: the other serves the line, one at a time
        busy = await engine.connect()
        line = []
        for name in ("first", "second", "third"):
            line.append(asyncio.create_task(use(name)))
            await asyncio.sleep(0.01)  # each is waiting before the next comes
        await busy.close()
        # Its user comes back at once, as a busy request handler would: it takes its turn after the line.
        await use("back again")
        await asyncio.gather(*line)
        assert served == ["first", "second", "third", "back again"]
        await kept.close()
    finally:
        await engine.dispose()


async def test_a_waiter_that_gives_up_passes_its_connection_on(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    try:
        first, second = await engine.connect(), await engine.connect()
        gives_up = asyncio.create_task(_use(engine))
        after = asyncio.create_task(_use(engine))
        await asyncio.sleep(0.05)  # both are waiting
        await first.close()  # the connection is handed to `gives_up`...
        gives_up.cancel()  # ...which is cancelled before it could use it
        assert await after == 1  # the next in line got it
        assert gives_up.cancelled()
        await second.close()
        pool = engine.pool
        assert pool.checkedout() == 0 and pool.checkedin() == 2  # type: ignore[attr-defined]
        both = await asyncio.gather(_use(engine), _use(engine))  # both connections still serve
        assert both == [1, 1]
    finally:
        await engine.dispose()


async def _use(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT 1"))).scalar_one())
