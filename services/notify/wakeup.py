"""Waking the dispatcher when deliveries are inserted, instead of waiting for its next poll.

Two paths, the poll (`NOTIFY_DISPATCH_INTERVAL`) staying as the fallback for both:
- in this process: the event handler calls `ctx.wake(DISPATCHER)`, which sets the dispatcher's signal right
  after the consumer's transaction commits (rows are visible to the claim only then);
- from other replicas: a statement trigger on `notify.deliveries` sends `NOTIFY notify_deliveries` at commit
  when the statement inserted pending rows (migrations 0002 and 0004; rows inserted already claimed,
  `handover.py`, are no one else's work), and every dispatcher keeps a `LISTEN` connection open (`listen` below).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from shared.db import listen_forever
from shared.worker import Signal

log = logging.getLogger(__name__)

CHANNEL = "notify_deliveries"
DISPATCHER = "dispatcher"  # the worker's name: `uow.wake(DISPATCHER)` once new pending deliveries are committed


async def listen(database_url: str, signal: Signal, *, on_notify: Callable[[], None] = lambda: None) -> None:
    """Hold a LISTEN connection (reconnecting after outages) that sets `signal` (after `on_notify`) on every
    NOTIFY, and after each (re)connect."""

    def notified() -> None:
        on_notify()
        signal.set()

    await listen_forever(
        database_url,
        {CHANNEL: lambda _payload: notified()},
        on_connect=notified,
        name="notify deliveries",
    )
