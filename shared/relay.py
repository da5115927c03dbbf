"""The outbox relay: moves committed outbox rows to RabbitMQ, with confirms, in order per key.

- Wakes on `LISTEN <schema>_outbox` (a trigger NOTIFYs on insert) and polls as a fallback.
- Safe with several replicas: rows are claimed with `FOR UPDATE SKIP LOCKED`; a row whose key has an
  earlier unpublished row that this replica did not claim (another replica holds it, or it was left for
  later) is left for later too, so a case's events are never overtaken.
- A row is marked published only when the broker confirmed it and every earlier row of its key in the
  batch was confirmed too; the rest stay pending and are retried after a back-off. A confirmed event
  may thus be published twice after a failure, never lost or reordered: consumers deduplicate by
  `event_id`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import ARRAY, BigInteger, Table, all_, any_, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.db import listen_forever
from shared.metrics import EVENTS_PUBLISHED, OUTBOX_OLDEST_PENDING, OUTBOX_PENDING, RELAY_FAILURES
from shared.outbox import notify_channel
from shared.publisher import EventPublisher, message_from_json
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
        self._claim = (
            select(t.c.id, t.c.key, t.c.envelope)
            .where(t.c.published_at.is_(None))
            .order_by(t.c.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        self._first_foreign = (
            select(t.c.key, func.min(t.c.id))
            .where(
                t.c.published_at.is_(None),
                t.c.key == any_(bindparam("keys", type_=ARRAY(t.c.key.type))),
                t.c.id != all_(bindparam("mine", type_=ARRAY(BigInteger))),
            )
            .group_by(t.c.key)
        )
        self._mark_published = update(t).where(t.c.id == any_(ids)).values(published_at=func.now())
        self._count_attempt = update(t).where(t.c.id == any_(ids)).values(attempts=t.c.attempts + 1)

    async def drain(self) -> int:
        """Publish until nothing is pending (or a round fails). Returns rows published.

        Pipelined: batch N is marked (and committed) on its own connection while batch N+1 is claimed and
        published. At most one batch is being marked; batch N+1 treats N's confirmed rows as published (they
        were confirmed before N+1 is published, whether or not N's mark has committed yet). If N's mark fails,
        N's rows stay pending and go out again after N+1's: a duplicate, never an event overtaken on its first
        arrival. A batch with unconfirmed rows ends the round after its mark (`PublishIncomplete`).
        """
        total = 0
        marking: asyncio.Task[None] | None = None
        confirmed: list[int] = []  # the previous batch's confirmed rows, perhaps not marked yet
        try:
            while True:
                conn = await self._engine.connect()
                try:
                    await conn.begin()
                    claimed, done, missed = await self._claim_and_publish(conn, confirmed)
                    if marking is not None:
                        await marking
                except BaseException:
                    await conn.close()  # rolls back: the claimed rows stay pending
                    raise
                marking = asyncio.create_task(self._mark(conn, done, missed))
                confirmed = done
                total += len(done)
                if missed:
                    await marking
                    raise PublishIncomplete
                if claimed < self._batch_size or not done:
                    await marking
                    return total
        finally:
            if marking is not None and not marking.done():
                await asyncio.gather(marking, return_exceptions=True)

    async def _claim_and_publish(self, conn: AsyncConnection, confirmed: list[int]) -> tuple[int, list[int], list[int]]:
        """Claim a batch, publish what per-key order allows. Returns (rows claimed, confirmed ids, missed ids)."""
        rows = (await conn.execute(self._claim)).all()
        if not rows:
            return 0, [], []
        keys = list({row.key for row in rows if row.key is not None})
        # Per key, the first pending row that is not ours (claimed by another replica, or left pending by an
        # earlier round): a row of ours may go out only if it comes before that one. Checking only the key's
        # first pending row was not enough: with two replicas, a replica holding the key's first row could
        # publish its later rows past a middle row the other replica held.
        foreign_first: dict[str, int] = {}
        if keys:
            mine = [row.id for row in rows] + confirmed
            foreign_first = dict((await conn.execute(self._first_foreign, {"keys": keys, "mine": mine})).all())
        ready = [row for row in rows if row.key is None or row.id < foreign_first.get(row.key, row.id + 1)]
        messages = [message_from_json(row.envelope) for row in ready]
        results = await self._publisher.publish_messages(messages)
        done: list[int] = []
        missed: list[int] = []
        failed_keys: set[str] = set()
        published_types: Counter[str] = Counter()
        for row, (event_type, _message), ok in zip(ready, messages, results, strict=True):
            # A row after an unconfirmed row of its key is not marked either: both go out again, in order.
            if ok and row.key not in failed_keys:
                done.append(row.id)
                published_types[event_type] += 1
            else:
                missed.append(row.id)
                if row.key is not None:
                    failed_keys.add(row.key)
        for event_type, count in published_types.items():
            EVENTS_PUBLISHED.labels(self.service, event_type).inc(count)
        return len(rows), done, missed

    async def _mark(self, conn: AsyncConnection, done: list[int], missed: list[int]) -> None:
        """Mark a batch's confirmed rows published, count an attempt on the others, commit."""
        try:
            if done:
                await conn.execute(self._mark_published, {"ids": done})
            if missed:
                await conn.execute(self._count_attempt, {"ids": missed})
            await conn.commit()
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


class PublishIncomplete(Exception):
    """Some claimed rows were not confirmed by the broker; they stay pending."""
