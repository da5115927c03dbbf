"""Prometheus metrics every service exposes on `/metrics`. Business gauges live in the services."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

EVENTS_PUBLISHED = Counter(
    "caunoi_events_published_total",
    "Events the outbox relay published with a broker confirm.",
    ["service", "type"],
)
RELAY_FAILURES = Counter(
    "caunoi_relay_failures_total",
    "Relay rounds that could not publish everything (broker down, unconfirmed).",
    ["service"],
)
OUTBOX_PENDING = Gauge("caunoi_outbox_pending", "Outbox rows not yet published.", ["service"])
OUTBOX_OLDEST_PENDING = Gauge(
    "caunoi_outbox_oldest_pending_seconds", "Age of the oldest unpublished outbox row.", ["service"]
)
EVENTS_CONSUMED = Counter(
    "caunoi_events_consumed_total",
    "Events taken from the service's queue, by outcome (processed, duplicate, ignored, poison, retried).",
    ["service", "type", "outcome"],
)
EVENTS_DEAD_LETTERED = Counter(
    "caunoi_events_dead_lettered_total",
    "Events this service sent to its dead-letter queue, by reason: poison (unparsable) or delivery_limit "
    "(the handler failed on the last delivery the queue allows).",
    ["service", "type", "reason"],
)
HANDLER_SECONDS = Histogram(
    "caunoi_event_handler_seconds",
    "Time to handle one event, commit included.",
    ["service", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_SECONDS = Histogram(
    "caunoi_http_request_seconds",
    "HTTP requests by route template and status.",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

DB_POOL_IN_USE = Gauge(
    "caunoi_db_pool_connections_in_use", "Database connections of this process checked out now.", ["service"]
)
DB_POOL_LIMIT = Gauge(
    "caunoi_db_pool_connections_limit",
    "Most database connections this process may open (pool size + overflow).",
    ["service"],
)
DB_SERVER_CONNECTIONS = Gauge(
    "caunoi_db_server_connections", "Connections open on the PostgreSQL server (all clients), as this service sees it."
)
DB_SERVER_MAX_CONNECTIONS = Gauge(
    "caunoi_db_server_max_connections",
    "PostgreSQL's max_connections minus the superuser-reserved ones: the connections clients can open.",
)

DB_AUTOVACUUM = Gauge(
    "caunoi_db_autovacuum_enabled",
    "1 when the PostgreSQL server runs autovacuum, 0 when it is off (the outboxes and notify's deliveries, rows "
    "updated once and then dead, bloat and slow every claim without it).",
)
DB_DEAD_TUPLES = Gauge(
    "caunoi_db_dead_tuples",
    "Dead row versions in this service's tables, by table (vacuum reclaims them).",
    ["table"],
)


def watch_pool(service: str, engine: AsyncEngine) -> None:
    """Pool gauges read at scrape time (no I/O): checked out now, and the ceiling."""
    pool = engine.sync_engine.pool
    if isinstance(pool, QueuePool):
        DB_POOL_IN_USE.labels(service).set_function(pool.checkedout)
        DB_POOL_LIMIT.labels(service).set(pool.size() + max(pool._max_overflow, 0))


async def refresh_database_gauges(engine: AsyncEngine, schema: str) -> None:
    """Two cheap queries: connections open on the server, how many clients may open and whether autovacuum
    runs; and the dead row versions of the tables in `schema` (the service's own)."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),"
                    " current_setting('max_connections')::int"
                    " - current_setting('superuser_reserved_connections')::int,"
                    " current_setting('autovacuum') = 'on'"
                )
            )
        ).one()
        dead = await conn.execute(
            text("SELECT relname, n_dead_tup FROM pg_stat_user_tables WHERE schemaname = :schema"), {"schema": schema}
        )
        for table, count in dead:
            DB_DEAD_TUPLES.labels(f"{schema}.{table}").set(count)
    DB_SERVER_CONNECTIONS.set(row[0])
    DB_SERVER_MAX_CONNECTIONS.set(row[1])
    DB_AUTOVACUUM.set(1 if row[2] else 0)


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
