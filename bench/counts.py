"""What the database and the broker did per case during a load step: transactions, rows, WAL, statements,
messages and fsyncs, each divided by the step's accepted cases (`e2e-details.json`, `counts`; printed per step).

PostgreSQL: `pg_stat_database` and `pg_stat_user_tables` of the benchmark's database; `pg_stat_wal` (the whole
server); `pg_stat_statements` calls by statement when the server preloads it (`shared_preload_libraries`; the
extension is created in the scratch database if it can be, e.g. on a second server started for counting, see
`BENCH_PG_ADMIN_DSN`). RabbitMQ: the node's global counters from the Prometheus endpoint (the whole node, so
measure while nothing else uses the broker). The backlog probe's own queries (a few a second) are included.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections import Counter

import asyncpg
import httpx

PROMETHEUS = os.environ.get("BENCH_RABBITMQ_PROMETHEUS", "http://127.0.0.1:15692/metrics")
RABBIT = {
    "published": "rabbitmq_global_messages_received_total",
    "published with confirm": "rabbitmq_global_messages_received_confirm_total",
    "routed": "rabbitmq_global_messages_routed_total",
    "confirmed": "rabbitmq_global_messages_confirmed_total",
    "delivered": "rabbitmq_global_messages_delivered_total",
    "redelivered": "rabbitmq_global_messages_redelivered_total",
    "acknowledged": "rabbitmq_global_messages_acknowledged_total",
    "fsyncs": "rabbitmq_io_sync_ops_total",
    "file writes": "rabbitmq_io_write_ops_total",
}
DATABASE_SQL = """SELECT xact_commit AS "transactions committed", xact_rollback AS "transactions rolled back",
    tup_inserted AS "rows inserted", tup_updated AS "rows updated", tup_deleted AS "rows deleted",
    tup_returned AS "rows returned (scans)", tup_fetched AS "rows fetched (index)"
    FROM pg_stat_database WHERE datname = current_database()"""
WAL_SQL = 'SELECT wal_records AS "WAL records", wal_bytes AS "WAL bytes", wal_sync AS "WAL fsyncs" FROM pg_stat_wal'
TABLES_SQL = """SELECT schemaname || '.' || relname AS name, n_tup_ins, n_tup_upd, n_tup_del, seq_scan,
    coalesce(idx_scan, 0) AS idx_scan FROM pg_stat_user_tables"""
STATEMENTS_SQL = """SELECT query, sum(calls)::bigint AS calls FROM pg_stat_statements
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) GROUP BY query"""


def rabbit_counters(url: str = PROMETHEUS) -> Counter[str]:
    """The node's global message and I/O counters (summed over their labels); empty if the endpoint is off."""
    try:
        text = httpx.get(url, timeout=5).text
    except httpx.HTTPError:
        return Counter()
    out: Counter[str] = Counter()
    metric = {v: k for k, v in RABBIT.items()}
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+)(?:\{[^}]*\})? ([0-9.eE+-]+)$", line)
        if m and m.group(1) in metric:
            out[metric[m.group(1)]] += int(float(m.group(2)))
    return out


class Counts:
    """`await start()` before a step, `await stop(cases)` after it (and after the drain)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._before: dict[str, Counter[str]] = {}

    async def _snapshot(self) -> dict[str, Counter[str]]:
        conn = await asyncpg.connect(self.dsn)
        try:
            await conn.execute("SELECT pg_stat_force_next_flush()")  # this backend's own counts (PostgreSQL 15)
            await conn.execute("SELECT pg_stat_clear_snapshot()")
            totals: Counter[str] = Counter(dict(await conn.fetchrow(DATABASE_SQL) or {}))
            totals.update(dict(await conn.fetchrow(WAL_SQL) or {}))
            tables: Counter[str] = Counter()
            for row in await conn.fetch(TABLES_SQL):
                for column, label in (("n_tup_ins", "ins"), ("n_tup_upd", "upd"), ("n_tup_del", "del"),
                                      ("seq_scan", "seq scans"), ("idx_scan", "index scans")):  # fmt: skip
                    tables[f"{row['name']} {label}"] = row[column]
            statements: Counter[str] = Counter()
            with contextlib.suppress(asyncpg.PostgresError):
                await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                for row in await conn.fetch(STATEMENTS_SQL):
                    statements[" ".join(row["query"].split())[:160]] += row["calls"]
        finally:
            await conn.close()
        return {"postgres": totals, "tables": tables, "statements": statements, "rabbitmq": rabbit_counters()}

    async def start(self) -> None:
        self._before = await self._snapshot()

    async def stop(self, cases: int, settle: float = 11.0) -> dict[str, dict[str, float]]:
        """Per case, by group: the change of each counter since `start` (zeros left out). Waits `settle`
        seconds first: an idle backend reports its last counts up to 10 s late (PostgreSQL 15)."""
        await asyncio.sleep(settle)
        after = await self._snapshot()
        per_case: dict[str, dict[str, float]] = {}
        for group, counters in after.items():
            before = self._before.get(group, Counter())
            delta = {k: (v - before.get(k, 0)) / max(cases, 1) for k, v in counters.items()}
            per_case[group] = {k: round(v, 3) for k, v in sorted(delta.items(), key=lambda kv: -kv[1]) if v}
        return per_case


def lines(per_case: dict[str, dict[str, float]], *, top: int = 40) -> list[str]:
    """The per-case counts as printable lines (tables and statements: the `top` largest)."""
    out = []
    for group, counters in per_case.items():
        out.append(f"   per case, {group}:")
        out += [f"     {v:10.3f}  {k}" for k, v in list(counters.items())[:top]]
    return out
