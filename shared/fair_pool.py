"""A connection pool that serves waiting callers in the order they came.

SQLAlchemy's asyncio pool keeps its idle connections in an `asyncio.Queue`, and its `get` first tries
`get_nowait`: a caller arriving just as a connection comes back takes it ahead of those already waiting, and
`asyncio.Queue.get` puts a woken waiter that lost that race at the *end* of the line. Under load (more
requests in flight than connections) some requests thus wait again and again: intake's `POST /v1/cases` under
32 connections answered with a p50 of 37 ms and a p99 of 240 ms, where the same requests served in order had a
p99 of 60–77 ms (`BENCHMARKS.md`, session 10).

`FairQueue` hands a returned connection straight to the oldest waiter, and a caller takes an idle connection
only when nobody is waiting. A waiter that gives up (its timeout, or its task cancelled) after a connection was
handed to it passes the connection on, so none is lost to the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util.concurrency import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty


class FairQueue(AsyncAdaptedQueue[Any]):
    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[Any]] = deque()

    def put_nowait(self, item: Any) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # one that gave up is skipped
                waiter.set_result(item)
                return
        super().put_nowait(item)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if not self._waiters:
            try:
                return self._queue.get_nowait()
            except asyncio.QueueEmpty:
                pass
        if not block:
            raise Empty()
        return await_(self._wait(seconds=timeout))

    async def _wait(self, *, seconds: float | None) -> Any:
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(seconds):
                return await waiter
        except BaseException as exc:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)  # still in line when it gave up before its turn
            handed = waiter.done() and not waiter.cancelled()
            if handed and isinstance(exc, TimeoutError):
                return waiter.result()  # it came as the time ran out: take it
            if handed:
                self.put_nowait(waiter.result())  # cancelled with a connection in hand: pass it on
            if isinstance(exc, TimeoutError):
                raise Empty() from None
            raise


class FairPool(AsyncAdaptedQueuePool):
    """`create_async_engine(..., poolclass=FairPool)`: SQLAlchemy's asyncio pool with `FairQueue`."""

    _queue_class = FairQueue
