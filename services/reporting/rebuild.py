"""Rebuild every figure from the event store: empty the derived tables, load the default reference data,
replay the stored envelopes in the order they were first received.

One transaction: readers see the old figures until the new ones are complete (rows are deleted, not
truncated, so readers are never blocked), and a failed rebuild changes nothing. The club's own records
(plan activities) and the reminders already sent are kept.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import projection, store
from services.reporting.seed import seed_defaults
from shared.events import Envelope

BATCH = 2000


async def rebuild(session: AsyncSession, data_dir: Path) -> int:
    """Recompute the derived tables inside the caller's transaction; returns the number of events replayed."""
    # SHARE: new events wait for the rebuild (they would otherwise be missed); readers are not blocked.
    await session.execute(text(f"LOCK TABLE {store.events.schema}.{store.events.name} IN SHARE MODE"))
    for table in store.DERIVED:
        await session.execute(delete(table))  # not TRUNCATE: readers keep the old figures until commit
    await seed_defaults(session, data_dir)
    e = store.events.c
    replayed, last = 0, 0
    while True:
        rows = (await session.execute(select(e.seq, e.envelope).where(e.seq > last).order_by(e.seq).limit(BATCH))).all()
        if not rows:
            await projection.flush(session)
            return replayed
        for seq, body in rows:
            await projection.apply(session, Envelope.model_validate_json(body))
            last = seq
        await projection.flush(session)
        replayed += len(rows)
