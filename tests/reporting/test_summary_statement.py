"""A report's summary is one statement on the session's connection: no transaction opened for it (BEGIN and
ROLLBACK would be two more round trips), and inside a transaction the caller opened it reads within it."""

from __future__ import annotations

from sqlalchemy import insert

from services.reporting import figures, store
from services.reporting.domain import parse_period
from shared.db import make_engine, make_session_factory


async def test_a_summary_opens_no_transaction_and_reads_within_the_callers(database_url):
    engine = make_engine(database_url, pre_ping=False)
    sessions = make_session_factory(engine)
    month = parse_period("2026-07")
    try:
        async with sessions() as session:
            assert (await figures.summary(session, month))["cases"]["total"] == 0
            driver = (await (await session.connection()).get_raw_connection()).driver_connection
            assert not driver.is_in_transaction()

        async with sessions() as session, session.begin():
            rows = [
                {"period": key, "dimension": "status", "unit": "", "value": "reported", "cases": 3}
                for key in ("2026-07", "2026")
            ]
            await session.execute(insert(store.case_totals), rows)
            assert (await figures.summary(session, month))["cases"]["by_status"] == {"reported": 3}
            assert (await figures.summary(session, parse_period("2026")))["cases"]["by_status"] == {"reported": 3}
            await session.rollback()
        async with sessions() as session:
            assert (await figures.summary(session, month))["cases"]["by_status"] == {}
    finally:
        await engine.dispose()
