"""What one process of a service runs (`SERVICE_ROLE`), the same three roles for every service:

- `all` (default): the HTTP API, the event consumer, the outbox relay and the background workers;
- `api`: the HTTP API only. Its writes still go to the outbox (the `workers` process's relay wakes on the
  outbox's NOTIFY), and its wake-ups of a worker (`UnitOfWork.wake`, `runtime.signals.set`) become a NOTIFY
  on `<service>_wake` with the worker's name as payload, sent after the commit;
- `workers`: the consumer, the relay and the background workers, which LISTEN on `<service>_wake`; over HTTP
  only the operational endpoints (`/healthz`, `/readyz`, `/metrics`).

An `api` process then spends its CPU and its event loop on requests alone: a relay batch or a consumer
transaction no longer holds a request's answer back (BENCHMARKS.md, session 7).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import listen_forever
from shared.worker import Signals

log = logging.getLogger(__name__)

Role = Literal["all", "api", "workers"]
_NOTIFY = text("SELECT pg_notify(:channel, :worker)")


def wake_channel(service: str) -> str:
    return f"{service}_wake"


def serves_api(role: Role) -> bool:
    return role != "workers"


def runs_workers(role: Role) -> bool:
    return role != "api"


def notifying_signals(engine: AsyncEngine, service: str) -> Signals:
    """The `api` role's wake-ups: each `set(name)` sends one NOTIFY (in its own task, after the caller's commit)
    for the `workers` process; a failed NOTIFY only leaves the work to the worker's next poll."""
    channel = wake_channel(service)
    pending: set[asyncio.Task[None]] = set()

    async def notify(worker: str) -> None:
        try:
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(_NOTIFY, {"channel": channel, "worker": worker})
        except Exception as exc:
            log.warning("wake-up of %s not sent (its next poll will do the work): %r", worker, exc)

    def forward(worker: str) -> None:
        task = asyncio.get_running_loop().create_task(notify(worker))
        pending.add(task)
        task.add_done_callback(pending.discard)

    return Signals(forward=forward)


async def listen_for_wakes(database_url: str, service: str, signals: Signals) -> None:
    """The `workers` role: set the local signal named by each NOTIFY on `<service>_wake`, and every signal once
    after each (re)connect (a wake-up sent while nobody listened is not lost, only late)."""
    await listen_forever(
        database_url,
        {wake_channel(service): signals.set},
        on_connect=signals.set_all,
        name=f"{service} wake-ups",
    )
