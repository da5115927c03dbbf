"""Where a case waits: every second of a step, how many rows and messages sit at each stage of the pipeline.

Stages, in a case's order: intake's unpublished outbox rows, routing's queue, cases routing recorded but has
not assigned yet, routing's unpublished outbox rows, notify's queue, deliveries not yet sent, notify's
unpublished outbox rows, reporting's queue. The stage whose count grows while the others stay near zero is
the bottleneck (`e2e-details.json`, `backlog`; the step's summary line names the largest).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import aio_pika
import asyncpg

STAGES_SQL = {
    "intake outbox": "SELECT count(*) FROM intake.outbox WHERE published_at IS NULL",
    "routing unassigned": "SELECT count(*) FROM routing.cases WHERE assign_pending",
    "routing outbox": "SELECT count(*) FROM routing.outbox WHERE published_at IS NULL",
    "notify unsent": "SELECT count(*) FROM notify.deliveries WHERE status IN ('pending', 'sending')",
    "notify outbox": "SELECT count(*) FROM notify.outbox WHERE published_at IS NULL",
}
QUEUES = ("routing", "notify", "reporting")


class BacklogProbe:
    def __init__(self, dsn: str, amqp_url: str, namespace: str) -> None:
        self.dsn, self.amqp_url, self.namespace = dsn, amqp_url, namespace
        self.samples: list[dict[str, Any]] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stop.clear()
        self.samples = []
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> list[dict[str, Any]]:
        self._stop.set()
        if self._task is not None:
            await self._task
        return self.samples

    def peaks(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for sample in self.samples:
            for k, v in sample.items():
                if k != "t":
                    out[k] = max(out.get(k, 0), v)
        return out

    async def _run(self) -> None:
        pg = await asyncpg.connect(self.dsn)
        amqp = await aio_pika.connect(self.amqp_url)
        started = time.monotonic()
        try:
            channel = await amqp.channel()
            while not self._stop.is_set():
                sample: dict[str, Any] = {"t": round(time.monotonic() - started, 1)}
                for name, sql in STAGES_SQL.items():
                    with contextlib.suppress(Exception):
                        sample[name] = int(await pg.fetchval(sql))
                for service in QUEUES:
                    with contextlib.suppress(Exception):
                        queue = await channel.declare_queue(f"{self.namespace}.{service}", passive=True)
                        sample[f"{service} queue"] = int(queue.declaration_result.message_count or 0)
                self.samples.append(sample)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 1.0)
        finally:
            await pg.close()
            await amqp.close()
