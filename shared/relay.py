"""The outbox relay: moves committed outbox rows to RabbitMQ, with confirms, in order per key.

- Wakes on `LISTEN <schema>_outbox` (a trigger NOTIFYs on insert) and polls as a fallback.
- Safe with several replicas: rows are claimed with `FOR UPDATE SKIP LOCKED`; a row whose key has an
  earlier unpublished row that this replica did not claim (another replica holds it, or it was left for
  later) is left for later too, so a case's events are never overtaken.
- A row is marked published only when the broker confirmed it and every earlier row of its key in the
  batch (and in the batch sent before it, see `drain`) was confirmed too; the rest stay pending and are
  retried after a back-off. A confirmed event
  may thus be published twice after a failure, never lost or reordered: consumers deduplicate by
  `event_id`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ARRAY, BigInteger, Row, Table, all_, any_, bindparam, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.db import listen_forever
from shared.metrics import EVENTS_PUBLISHED, OUTBOX_OLDEST_PENDING, OUTBOX_PENDING, RELAY_FAILURES
from shared.outbox import notify_channel
from shared.publisher import EventPublisher, Outgoing, outgoing_from_json
from shared.worker import Signal, run_worker

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        database_url: str,
        table: Table,
        publisher: EventPublisher,
        batch_size: int = 200,
        poll_interval: float = 1.0,
        retention: timedelta = timedelta(days=14),
        max_backoff: float = 10.0,
    ) -> None:
        self.service = service
        self._engine = engine
        self._database_url = database_url
        self._table = table
        self._publisher = publisher
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._retention = retention
        self._max_backoff = max_backoff
        self._wake = Signal()
        self.pending: int | None = None  # unpublished rows at the last housekeeping round (None: not known yet)
        self._stopping = asyncio.Event()
        self._last_purge = 0.0
        # Statements built once (SQLAlchemy's compiled cache then serves every round).
        t = table
        ids = bindparam("ids", type_=ARRAY(BigInteger))
        # The claim and the order check in one statement: a batch of pending rows locked with SKIP LOCKED, each
        # with whether its key has an earlier pending row that is not ours (not claimed here and not in `mine`,
        # rows this replica already published): one held by another replica, or left pending by an earlier
        # round. Such a row must wait for it. Checking only the key's first pending row was not enough: with
        # two replicas, a replica holding the key's first row could publish its later rows past a middle row
        # the other replica held.
        claimed = (
            select(t.c.id, t.c.key, t.c.envelope)
            .where(t.c.published_at.is_(None))
            .order_by(t.c.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
            .cte("claimed")
        )
        earlier = t.alias("earlier")
        blocked = (
            exists()
            .where(
                earlier.c.published_at.is_(None),
                earlier.c.key == claimed.c.key,
                earlier.c.id < claimed.c.id,
                earlier.c.id.not_in(select(claimed.c.id).scalar_subquery()),
                earlier.c.id != all_(bindparam("mine", type_=ARRAY(BigInteger))),
            )
            .label("blocked")
        )
        self._claim = select(claimed.c.id, claimed.c.key, claimed.c.envelope, blocked).order_by(claimed.c.id)
        self._mark_published = update(t).where(t.c.id == any_(ids)).values(published_at=func.now())
        self._count_attempt = update(t).where(t.c.id == any_(ids)).values(attempts=t.c.attempts + 1)

    async def drain(self) -> int:
        """Publish until nothing is pending (or a round fails). Returns rows published.

        Pipelined: batch N+1 is claimed and sent while batch N waits for its confirms and is marked (and
        committed) on its own connection; at most two batches are in flight. N+1's claim skips N's rows (N's
        connection holds their locks) and counts N's sent rows as this replica's; a key with rows in N sends
        none in N+1 (they stay pending for a later batch): N's frames may be lost with a broken connection
        while N+1's go out on the reconnected one, which would let them arrive first. N+1's outcome is judged
        after N's: a row whose key has an unconfirmed row earlier in its batch (or in N) is not marked
        either, so both go out again, in order. If N's
        mark fails, N's rows stay pending and go out again later: a duplicate, never an event overtaken on its
        first arrival. A batch with unconfirmed rows ends the round once the batches in flight are settled
        (`PublishIncomplete`).
        """
        total = 0
        missed = 0
        inflight: list[asyncio.Task[_Settled]] = []  # oldest first, at most two
        sent: list[int] = []  # the last batch's sent rows (this replica's, whatever their confirms)
        flying: set[str] = set()  # the keys of the last batch sent (unconfirmed until it settles)
        try:
            while True:
                if len(inflight) == 2:
                    settled = await inflight.pop(0)
                    total, missed = total + settled.done, missed + settled.missed
                if missed:
                    break
                conn = await self._engine.connect()
                try:
                    await conn.begin()
                    rows = (await conn.execute(self._claim, {"mine": sent})).all()
                    if not rows:
                        await conn.close()
                        break
                    # A key with rows in the batch still in flight waits for it: were N's frames lost with its
                    # connection while N+1 went out on a reconnected one, N+1 would arrive first.
                    ready = [row for row in rows if not row.blocked and (row.key is None or row.key not in flying)]
                    messages = [outgoing_from_json(row.envelope) for row in ready]
                    tasks = await self._publisher.send(messages)
                except BaseException:
                    await conn.close()  # rolls back: the claimed rows stay pending
                    raise
                before = inflight[-1] if inflight else None
                inflight.append(asyncio.create_task(self._settle(conn, ready, messages, tasks, before)))
                sent = [row.id for row in ready]
                flying = {row.key for row in ready if row.key is not None}
                if len(rows) < self._batch_size or not ready:
                    break
            for task in inflight:
                settled = await task
                total, missed = total + settled.done, missed + settled.missed
            inflight.clear()
        finally:
            if inflight:
                await asyncio.gather(*inflight, return_exceptions=True)
        if missed:
            raise PublishIncomplete
        return total

    async def _settle(
        self,
        conn: AsyncConnection,
        ready: Sequence[Row[Any]],
        messages: list[Outgoing],
        tasks: list[asyncio.Future[Any]],
        before: asyncio.Task[_Settled] | None,
    ) -> _Settled:
        """Await a sent batch's confirms, then (after the batch before it) mark its confirmed rows published,
        count an attempt on the others, commit. A row after an unconfirmed row of its key, in this batch or the
        one before, is not marked either: both go out again, in order."""
        try:
            results = await self._publisher.confirmed(tasks)
            failed_keys: set[str] = set()
            if before is not None:
                failed_keys = set((await asyncio.shield(before)).failed_keys)
            done: list[int] = []
            missed: list[int] = []
            published_types: Counter[str] = Counter()
            for row, message, ok in zip(ready, messages, results, strict=True):
                if ok and row.key not in failed_keys:
                    done.append(row.id)
                    published_types[message.routing_key] += 1
                else:
                    missed.append(row.id)
                    if row.key is not None:
                        failed_keys.add(row.key)
            for event_type, count in published_types.items():
                EVENTS_PUBLISHED.labels(self.service, event_type).inc(count)
            if done:
                await conn.execute(self._mark_published, {"ids": done})
            if missed:
                await conn.execute(self._count_attempt, {"ids": missed})
            await conn.commit()
            return _Settled(len(done), len(missed), failed_keys)
        finally:
            await conn.close()

    async def run(self) -> None:
        listener = asyncio.create_task(self._listen(), name=f"{self.service}-outbox-listen")
        housekeeping = asyncio.create_task(self._housekeeping(), name=f"{self.service}-outbox-housekeeping")
        try:
            # The relay outlives any fault, PublishIncomplete included: the loop backs off and tries again.
            await run_worker(
                f"{self.service} outbox relay",
                self._round,
                interval=self._poll_interval,
                signal=self._wake,
                min_backoff=0.2,
                max_backoff=self._max_backoff,
                on_error=lambda _exc: RELAY_FAILURES.labels(self.service).inc(),
                stop=self._stopping,
            )
        finally:
            listener.cancel()
            housekeeping.cancel()
            await asyncio.gather(listener, housekeeping, return_exceptions=True)

    async def _round(self) -> int:
        if not self._publisher.connected:
            await self._publisher.connect()
        return await self.drain()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def _listen(self) -> None:
        """Wake the relay on every insert into the outbox, and after (re)connecting: rows may have
        arrived while nobody listened."""
        channel = notify_channel(self._table.schema or "public")
        await listen_forever(
            self._database_url,
            {channel: lambda _payload: self._wake.set()},
            on_connect=self._wake.set,
            name=f"{self.service} outbox relay",
        )

    async def _housekeeping(self) -> None:
        """Refresh the backlog gauges every 5 s and delete rows published longer ago than the retention."""
        await run_worker(
            f"{self.service} outbox housekeeping",
            self._housekeeping_step,
            interval=5.0,
            min_backoff=5.0,
            max_backoff=5.0,
            on_error=lambda exc: log.debug("outbox housekeeping skipped: %r", exc),
        )

    async def _housekeeping_step(self) -> int:
        t = self._table
        async with self._engine.begin() as conn:
            # The age is computed by PostgreSQL: sending `min(created_at)` back as a parameter failed (an aware
            # datetime bound as `timestamp`), so the gauge was never set while rows were pending.
            age_of_oldest = func.extract("epoch", func.now() - func.min(t.c.created_at))
            count, age = (
                await conn.execute(select(func.count(), age_of_oldest).where(t.c.published_at.is_(None)))
            ).one()
            OUTBOX_PENDING.labels(self.service).set(count)
            self.pending = int(count)
            OUTBOX_OLDEST_PENDING.labels(self.service).set(float(age or 0))
            if time.monotonic() - self._last_purge > 3600:
                await conn.execute(delete(t).where(t.c.published_at < func.now() - self._retention))
                self._last_purge = time.monotonic()
        return 0


@dataclass(frozen=True)
class _Settled:
    done: int  # rows marked published
    missed: int  # rows not confirmed (or after an unconfirmed row of their key): still pending
    failed_keys: set[str]  # keys with a missed row, for the batch after this one


class PublishIncomplete(Exception):
    """Some claimed rows were not confirmed by the broker; they stay pending."""
