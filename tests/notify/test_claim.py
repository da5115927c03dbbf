"""The claim: leases that ran out first, then due rows in order, at most `limit`, each read from its partial
index in order (never every due row read and sorted, whatever the backlog)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.notify import store
from services.notify.dispatcher import _CLAIM

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def _row(i: int, status: str, next_attempt_at: datetime, lease_until: datetime | None = None) -> dict[str, object]:
    return dict(
        id=uuid.uuid4(), source_event_id=uuid.uuid4(), source_type="routing.case.assigned", template="case_assigned",
        channel="email", recipient_key=f"member:{i}", recipient_name="Lan", context={}, status=status,
        next_attempt_at=next_attempt_at, lease_until=lease_until, attempts=1 if status == "sending" else 0,
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip


async def test_the_claim_takes_expired_leases_then_due_rows_in_order_and_reads_only_what_it_takes(database_url):
    engine = create_async_engine(database_url)
    try:
        due = [_row(i, "pending", NOW - timedelta(seconds=3000 - i)) for i in range(3000)]  # a backlog, oldest first
        expired = [_row(5000 + i, "sending", NOW - timedelta(hours=1), NOW - timedelta(seconds=1)) for i in range(2)]
        leased = [_row(6000, "sending", NOW - timedelta(hours=1), NOW + timedelta(seconds=60))]  # another replica's
        later = [_row(7000, "pending", NOW + timedelta(minutes=5))]
        sent = [_row(8000 + i, "sent", NOW - timedelta(hours=2)) for i in range(3000)]
        async with engine.begin() as conn:
            await conn.execute(store.deliveries.insert(), [*sent, *due, *expired, *leased, *later])
            await conn.execute(text("ANALYZE notify.deliveries"))
        params = {"now": NOW, "lease_until": NOW + timedelta(minutes=2), "limit": 25}
        async with engine.begin() as conn:
            claimed = (await conn.execute(_CLAIM, params)).all()
        ids = {r.id for r in claimed}
        assert len(claimed) == 25 and {r.status for r in claimed} == {"sending"}
        assert ids == {r["id"] for r in expired} | {r["id"] for r in due[:23]}
        assert {r.attempts for r in claimed if r.id in {e["id"] for e in expired}} == {2}

        async with engine.connect() as conn:
            compiled = _CLAIM.compile(dialect=conn.dialect)
            values = compiled.construct_params(params)
            positional = tuple(values[name] for name in compiled.positiontup or ())
            explained = await conn.exec_driver_sql(f"EXPLAIN {compiled}", positional)
            plan = "\n".join(line for (line,) in explained)
        assert "ix_deliveries_due" in plan and "ix_deliveries_leased" in plan
        assert "Sort" not in plan and "Seq Scan" not in plan, plan
    finally:
        await engine.dispose()
