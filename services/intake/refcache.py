"""Reference data (units, successors, categories, special circumstances) kept in the process.

Looking them up on every `POST /v1/cases` cost about a quarter of intake's time, and they change a few
times a year. The copy is dropped when it may be stale, by three means:

- the admin API of this process calls `invalidate()` after its transaction commits (at once);
- a trigger on each table NOTIFYs `intake_reference`; `listen()` drops the copy when it arrives (other
  processes, `seed`, manual SQL);
- a TTL (`REFERENCE_CACHE_TTL_SECONDS`, default 30 s) bounds staleness if a notification is ever lost.

A code the copy does not know is looked up in the database before the request is refused, so a unit or
category created a moment ago is never refused because of the cache.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.intake import store
from shared.db import listen_forever

log = logging.getLogger(__name__)
# A session or a plain connection: both execute Core statements, and hot paths skip the session.
Db = AsyncSession | AsyncConnection
REFERENCE_CHANNEL = "intake_reference"
CREDENTIALS_CHANNEL = "intake_credentials"


@dataclass(frozen=True)
class UnitInfo:
    code: str
    valid_from: date | None
    valid_to: date | None
    successors: tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    units: dict[str, UnitInfo]
    active_categories: frozenset[str]
    special_circumstances: frozenset[str]
    loaded_at: float
    generation: int
    suggested_urgency: dict[str, str] | None = None  # active category → its suggested urgency


async def _load(session: Db, generation: int) -> Snapshot:
    successors: dict[str, list[str]] = {}
    for old, new in (await session.execute(select(store.unit_successors))).all():
        successors.setdefault(old, []).append(new)
    u = store.units.c
    units = {
        row.code: UnitInfo(row.code, row.valid_from, row.valid_to, tuple(sorted(successors.get(row.code, ()))))
        for row in (await session.execute(select(u.code, u.valid_from, u.valid_to))).all()
    }
    c = store.categories.c
    suggested = dict((await session.execute(select(c.code, c.suggested_urgency).where(c.active))).tuples().all())
    special = frozenset((await session.execute(select(store.special_circumstances.c.code))).scalars())
    return Snapshot(units, frozenset(suggested), special, time.monotonic(), generation, suggested)


class ReferenceCache:
    """The process's copy of the reference tables; `get()` reloads it when dropped or older than the TTL."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._snapshot: Snapshot | None = None
        self._generation = 0  # bumped by every invalidation: a load that raced one is not kept
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._generation += 1
        self._snapshot = None

    def _fresh(self) -> Snapshot | None:
        snapshot = self._snapshot
        if snapshot is None or snapshot.generation != self._generation:
            return None
        if time.monotonic() - snapshot.loaded_at > self.ttl:
            return None
        return snapshot

    async def get(self, session: Db) -> Snapshot:
        """The current copy, loaded with `session` when missing or stale (one loader at a time)."""
        if (snapshot := self._fresh()) is not None:
            return snapshot
        async with self._lock:
            if (snapshot := self._fresh()) is not None:
                return snapshot
            generation = self._generation
            snapshot = await _load(session, generation)
            if generation == self._generation:
                self._snapshot = snapshot
            return snapshot


async def listen(
    database_url: str, on_reference: Callable[[], None], on_credential: Callable[[str | None], None]
) -> None:
    """Hold a LISTEN connection for both channels, reconnecting after outages. After a (re)connect
    everything is dropped, since notifications sent while disconnected are lost."""

    def everything() -> None:
        on_reference()
        on_credential(None)

    await listen_forever(
        database_url,
        {REFERENCE_CHANNEL: lambda _payload: on_reference(), CREDENTIALS_CHANNEL: on_credential},
        on_connect=everything,
        name="intake caches",
    )
