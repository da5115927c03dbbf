"""Business gauges on `/metrics`: open cases by urgency, deadline breaches, reports missing this period,
counseling requests waiting. Refreshed by a worker from the counters (cheap queries), so a scrape never
touches the database.
"""

from __future__ import annotations

import logging

from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import figures, store
from services.reporting.domain import Month
from shared.service import ServiceRuntime
from shared.worker import run_worker

log = logging.getLogger(__name__)

OPEN_CASES = Gauge("caunoi_open_cases", "Cases not closed, by urgency.", ["urgency"])
BREACHES = Gauge("caunoi_deadline_breaches", "Deadlines passed with nobody acting, since the start.", ["deadline"])
REPORTS_MISSING = Gauge(
    "caunoi_monthly_reports_missing", "Units expected to report for the last closed month that have not."
)
COUNSELING_WAITING = Gauge("caunoi_counseling_requests_waiting", "Counseling requests not answered yet.")
URGENCIES = ("critical", "high", "medium", "low")


async def refresh(session: AsyncSession, month_key: str) -> None:
    open_cases = await figures.open_cases_by_urgency(session)
    for urgency in URGENCIES:
        OPEN_CASES.labels(urgency).set(open_cases.get(urgency, 0))
    b = store.breaches.c
    for deadline, n in await session.execute(select(b.deadline, func.count()).group_by(b.deadline)):
        BREACHES.labels(deadline).set(n)
    REPORTS_MISSING.set(len(await figures.missing_reports(session, month_key)))
    COUNSELING_WAITING.set(await figures.counseling_waiting(session))


async def gauges_worker(runtime: ServiceRuntime) -> None:
    """Background worker (ServiceSpec.workers): refresh the business gauges every `GAUGES_INTERVAL`."""

    async def step() -> None:
        async with runtime.sessions() as session:
            # "This period" is the last month whose reports are due: the one before the current month.
            await refresh(session, Month.of(runtime.clock.now()).previous().key)

    await run_worker("gauges", step, interval=runtime.settings.gauges_interval)
