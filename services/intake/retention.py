"""Retention: a closed case's child data and free text are erased once it has been closed longer than
RETENTION_DAYS_AFTER_CLOSE (crypto-shredding, as for a consent withdrawal: `withdrawal.erase_case`), by a
scheduled job (`retention_worker`, on `shared.worker.run_worker`). `python -m services.intake retention
--dry-run` lists what the next run would erase; without `--dry-run` it erases now."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import store
from services.intake.context import IntakeContext
from services.intake.withdrawal import erase_case
from shared.outbox import Outbox
from shared.service import ServiceRuntime
from shared.uow import unit_of_work
from shared.worker import run_worker

RETENTION = "retention"
BATCH = 50
SYSTEM = uuid.UUID(int=0)  # the audit log's account for the job's erasures


async def due(session: AsyncSession, now: datetime, days: int, limit: int = BATCH) -> list:
    """Closed cases past the retention period whose data is not yet erased: (id, code, unit, closed_at)."""
    c, k = store.cases.c, store.case_keys.c
    erased = select(k.case_id).where(k.case_id == c.id, k.destroyed_at.is_not(None)).exists()
    query = (
        select(c.id, c.code, c.unit, c.status_changed_at.label("closed_at"))
        .where(c.status == "closed", c.status_changed_at < now - timedelta(days=days), ~erased)
        .order_by(c.status_changed_at)
        .limit(limit)
    )
    return list((await session.execute(query)).all())


async def erase_due(session: AsyncSession, outbox: Outbox, context: IntakeContext, now: datetime) -> int:
    """Erase one batch of due cases; returns how many."""
    cases = await due(session, now, context.settings.retention_days_after_close)
    for case in cases:
        await session.execute(
            store.audit_log.insert().values(
                at=now,
                account_id=SYSTEM,
                key_id=RETENTION,
                role="system",
                action="retention_erased",
                case_id=case.id,
                fields=sorted(store.CHILD_FIELDS),
            )
        )
        await erase_case(session, outbox, context.cipher, case.id, code=case.code, at=now, why="retention")
    return len(cases)


def retention_worker(context: IntakeContext):
    """Background worker: every RETENTION_INTERVAL_SECONDS, erase closed cases past the retention period."""

    async def run(runtime: ServiceRuntime) -> None:
        if context.settings.retention_days_after_close == 0:
            return

        async def step() -> int:
            async with unit_of_work(runtime) as uow:
                outbox = runtime.outbox
                assert outbox is not None
                return await erase_due(uow.session, outbox, context, uow.now)

        await run_worker(
            RETENTION,
            step,
            interval=context.settings.retention_interval_seconds,
            signal=runtime.signals[RETENTION],
            busy=lambda done: done >= BATCH,
        )

    run.__name__ = "retention_worker"
    return run
