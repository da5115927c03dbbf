"""Waking the dispatcher when deliveries are inserted, instead of waiting for its next poll.

Two paths, the poll (`NOTIFY_DISPATCH_INTERVAL`) staying as the fallback for both:
- in this process: the event handler sets the `Wakeup` right after the consumer's transaction commits (rows
  are visible to the claim only then);
- from other replicas: a statement trigger on `notify.deliveries` sends `NOTIFY notify_deliveries` at commit
  (migration 0002), and every dispatcher keeps a `LISTEN` connection open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import listen_forever

log = logging.getLogger(__name__)

CHANNEL = "notify_deliveries"


class Wakeup:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def after_commit(self, session: AsyncSession) -> None:
        """Set once the session's transaction commits (never on rollback: nothing new to send then)."""
        event.listen(session.sync_session, "after_commit", lambda _session: self._event.set(), once=True)

    async def wait(self, at_most: float) -> None:
        """Until set or `at_most` seconds; clears it, so a wake-up during the following claim is not lost."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout=at_most)
        self._event.clear()

    async def listen(self, database_url: str) -> None:
        """Hold a LISTEN connection (reconnecting after outages) that sets this on every NOTIFY."""
        await listen_forever(
            database_url,
            {CHANNEL: lambda _payload: self._event.set()},
            on_connect=self._event.set,
            name="notify deliveries",
        )
