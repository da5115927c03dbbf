"""The outbox relay: moves committed outbox rows to RabbitMQ, with confirms, in order per key.

- Wakes on `LISTEN <schema>_outbox` (a trigger NOTIFYs on insert) and polls as a fallback.
- Safe with several replicas: rows are claimed with `FOR UPDATE SKIP LOCKED`; a row whose key has an
  earlier unpublished row claimed by another replica is left for later, so a case's events are never
  overtaken.
- A row is marked published only when the broker confirmed it and every earlier row of its key in the
  batch was confirmed too; the rest stay pending and are retried after a back-off. A confirmed event
  may thus be published twice after a failure, never lost or reordered: consumers deduplicate by
  `event_id`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import listen_forever
from shared.events import Envelope
from shared.metrics import EVENTS_PUBLISHED, OUTBOX_OLDEST_PENDING, OUTBOX_PENDING, RELAY_FAILURES
from shared.outbox import notify_channel
from shared.publisher import EventPublisher
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

    async def relay_once(self) -> tuple[int, bool]:
        """Publish one batch. Returns (rows published, whether every claimed row went out)."""
        t = self._table
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(t.c.id, t.c.key, t.c.envelope)
                    .where(t.c.published_at.is_(None))
                    .order_by(t.c.id)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0, True
            claimed = {row.id for row in rows}
            keys = {row.key for row in rows if row.key is not None}
            first_pending: dict[str, int] = {}
            if keys:
                first_pending = dict(
                    (
                        await conn.execute(
                            select(t.c.key, func.min(t.c.id))
                            .where(t.c.published_at.is_(None), t.c.key.in_(keys))
                            .group_by(t.c.key)
                        )
                    ).all()
                )
            # A key whose earliest pending row is held by another replica waits for that replica.
            blocked = {k for k, first in first_pending.items() if first not in claimed}
            ready = [row for row in rows if row.key not in blocked]
            envelopes = [Envelope.model_validate_json(row.envelope) for row in ready]
            results = await self._publisher.publish_many(
                [(env, row.envelope.encode()) for env, row in zip(envelopes, ready, strict=True)]
            )
            done: list[int] = []
            failed_keys: set[str | None] = set()
            for row, env, ok in zip(ready, envelopes, results, strict=True):
                if ok and (row.key is None or row.key not in failed_keys):
                    done.append(row.id)
                    EVENTS_PUBLISHED.labels(self.service, env.type).inc()
                elif row.key is not None:
                    failed_keys.add(row.key)
            if done:
                await conn.execute(
                    update(t).where(t.c.id.in_(bindparam("ids", expanding=True))).values(published_at=func.now()),
                    {"ids": done},
                )
            missed = [row.id for row in ready if row.id not in set(done)]
            if missed:
                await conn.execute(
                    update(t).where(t.c.id.in_(bindparam("ids", expanding=True))).values(attempts=t.c.attempts + 1),
                    {"ids": missed},
                )
            return len(done), not missed

    async def drain(self) -> int:
        """Publish until nothing is pending (or a round fails). Returns rows published."""
        total = 0
        while True:
            published, complete = await self.relay_once()
            total += published
            if not complete:
                raise PublishIncomplete
            if published < self._batch_size:
                return total

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
