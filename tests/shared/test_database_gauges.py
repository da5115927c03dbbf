"""The database gauges every service refreshes (`shared.metrics.refresh_database_gauges`): autovacuum as the
server runs it, and the dead row versions of the service's own tables (the `CaunoiAutovacuumOff` runbook)."""

from __future__ import annotations

from sqlalchemy import text

from shared.db import make_engine
from shared.metrics import DB_AUTOVACUUM, DB_DEAD_TUPLES, DB_SERVER_CONNECTIONS, refresh_database_gauges


async def test_autovacuum_and_dead_rows_are_read_from_the_server(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            autovacuum = (await conn.execute(text("SHOW autovacuum"))).scalar_one()
            await conn.execute(text("CREATE TABLE intake.gauge_probe (n int)"))
            await conn.execute(text("INSERT INTO intake.gauge_probe SELECT generate_series(1, 50)"))
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM intake.gauge_probe WHERE n <= 30"))
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_stat_force_next_flush()"))  # this backend's counts, now
        await refresh_database_gauges(engine, "intake")
    finally:
        await engine.dispose()
    assert DB_AUTOVACUUM._value.get() == (1 if autovacuum == "on" else 0)
    assert DB_SERVER_CONNECTIONS._value.get() >= 1
    dead = DB_DEAD_TUPLES.labels("intake.gauge_probe")._value.get()
    assert dead == 30 or (autovacuum == "on" and dead <= 30)  # autovacuum may already have reclaimed some
