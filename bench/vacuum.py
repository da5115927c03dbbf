"""What autovacuum does, where the machine's PostgreSQL runs without it (`autovacuum = off`, as here and in CI).

A deployment runs PostgreSQL with autovacuum on (CloudNativePG's default): tables whose rows are updated once and
then forgotten (outboxes, deliveries) are vacuumed as they go, and every table is analyzed as it grows. Without it,
a load step runs against tables that were never analyzed (plans chosen for empty tables, and prepared statements
keep them) and index scans walk every dead entry of a partial index (`ix_deliveries_leased` read ~1,000 dead
entries per claim). During each e2e step, `Vacuum` runs `VACUUM (ANALYZE)` of the benchmark's database every
`every` seconds, on a connection to that database, so its CPU is counted with PostgreSQL's, and throttled as
autovacuum is by default (`autovacuum_vacuum_cost_delay` 2 ms per `vacuum_cost_limit` 200): unthrottled, each
pass was a burst that took both cores for a moment, which autovacuum never is, and the cases caught in one made
the tail of the 10/s step (first email p99 84 and 98 ms unthrottled, 68 and 68 ms throttled, runs alternated on a
slow host).
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg


class Vacuum:
    def __init__(self, dsn: str, every: float = 15.0) -> None:
        self.dsn = dsn
        self.every = every
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        """Start vacuuming unless autovacuum is on. Returns whether it started."""
        conn = await asyncpg.connect(self.dsn)
        if await conn.fetchval("SHOW autovacuum") == "on":
            await conn.close()
            return False
        self._task = asyncio.create_task(self._run(conn), name="bench-vacuum")
        return True

    async def stop(self) -> None:
        """Stop (a VACUUM in progress is cancelled)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, conn: asyncpg.Connection) -> None:
        try:
            # autovacuum's defaults (PostgreSQL 12 and later); a manual VACUUM is unthrottled unless told
            await conn.execute("SET vacuum_cost_delay = '2ms'")
            await conn.execute("SET vacuum_cost_limit = 200")
            while True:
                await conn.execute("VACUUM (ANALYZE)")
                await asyncio.sleep(self.every)
        finally:
            conn.terminate()
