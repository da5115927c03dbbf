"""Getting new deliveries to a dispatcher at once, instead of at its next poll.

Three paths, the poll (`NOTIFY_DISPATCH_INTERVAL`) staying as the fallback for all:
- in this process, the common case: the consumer inserts the deliveries it can send now already leased to this
  process (`sending`, as a claim would have marked them) and hands the inserted rows to its dispatcher once
  the transaction commits (`Handoff`): no claim, one statement and one transaction less per event. It does so
  only while this process's dispatcher runs, has room in its queue and is not behind (its last claim found
  fewer due rows than it asked for), so rows already waiting are not overtaken. A process that dies with
  handed rows unsent leaves them to their lease, like claimed rows;
- in this process, the rest (no room, quiet hours): the event handler calls `ctx.wake(DISPATCHER)`, which sets
  the dispatcher's signal right after the consumer's transaction commits (rows are visible to the claim only
  then);
- from other replicas: a trigger on `notify.deliveries` sends `NOTIFY notify_deliveries` at commit when a
  `pending` row is inserted (migrations 0002, 0004), and every dispatcher keeps a `LISTEN` connection open
  (`listen` below).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.engine import Row

from shared.db import listen_forever
from shared.worker import Signal

log = logging.getLogger(__name__)

CHANNEL = "notify_deliveries"
DISPATCHER = "dispatcher"  # the worker's name: `uow.wake(DISPATCHER)` once new pending deliveries are committed


async def listen(database_url: str, signal: Signal) -> None:
    """Hold a LISTEN connection (reconnecting after outages) that sets `signal` on every NOTIFY."""
    await listen_forever(
        database_url,
        {CHANNEL: lambda _payload: signal.set()},
        on_connect=signal.set,
        name="notify deliveries",
    )


class Receiver(Protocol):
    def takes(self, count: int) -> bool:
        """Whether `count` more rows may be handed now (the dispatcher runs, has room and is not behind)."""

    def refused(self) -> None:
        """Rows it could not take were inserted as `pending`: it is behind until a claim says otherwise."""

    def take(self, rows: Sequence[Row[Any]]) -> None:
        """Queue rows leased to this process (committed) for sending, as if it had claimed them."""


class Handoff:
    """The consumer's way to this process's dispatcher (see the module doc); `receiver` is the dispatcher while
    it runs."""

    def __init__(self) -> None:
        self.receiver: Receiver | None = None


_HANDOFFS: weakref.WeakKeyDictionary[Signal, Handoff] = weakref.WeakKeyDictionary()


def handoff(signal: Signal) -> Handoff:
    """The handoff of the process whose dispatcher wakes on `signal` (one per service runtime)."""
    found = _HANDOFFS.get(signal)
    if found is None:
        found = _HANDOFFS[signal] = Handoff()
    return found
