"""Business gauges on `/metrics`: open cases by urgency, cases by state, deadline breaches, reports missing
this period and units late with it (past the due day), counseling requests waiting. Refreshed by a
worker from the counters (cheap queries), so a scrape never touches the database.
"""

from __future__ import annotations

import logging
from datetime import date

from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import figures, store
from services.reporting.domain import VN, Month
from shared.service import ServiceRuntime
from shared.worker import run_worker

log = logging.getLogger(__name__)

OPEN_CASES = Gauge("caunoi_open_cases", "Cases not closed, by urgency.", ["urgency"])
BREACHES = Gauge("caunoi_deadline_breaches", "Deadlines passed with nobody acting, since the start.", ["deadline"])
REPORTS_MISSING = Gauge(
    "caunoi_monthly_reports_missing", "Units expected to report for the last closed month that have not."
)
REPORTS_LATE = Gauge(
    "caunoi_monthly_reports_late",
    "Units that have not sent last month's report although its due day (MONTHLY_REPORT_DUE_DAY) has passed.",
)
CASES_BY_STATE = Gauge("caunoi_cases", "Cases by current state (every case ever reported).", ["state"])
STATES = ("reported", "assigned", "accepted", "in_progress", "forwarded", "closed")
COUNSELING_WAITING = Gauge("caunoi_counseling_requests_waiting", "Counseling requests not answered yet.")
URGENCIES = ("critical", "high", "medium", "low")
UNITS_WITHOUT_CONTACT = Gauge(
    "caunoi_units_without_contact",
    "Units valid today whose Youth Union has neither an email nor a Zalo contact (GET /v1/units/without-contact).",
)


async def refresh(session: AsyncSession, today: date, due_day: int) -> None:
    """`today` is the Vietnamese date; reports of the month before it are due on its `due_day`."""
    open_cases = await figures.open_cases_by_urgency(session)
    for urgency in URGENCIES:
        OPEN_CASES.labels(urgency).set(open_cases.get(urgency, 0))
    c = store.case_counts.c
    by_state = {s: int(n) for s, n in await session.execute(select(c.status, func.sum(c.cases)).group_by(c.status))}
    for state in (*STATES, *sorted(set(by_state) - set(STATES))):
        CASES_BY_STATE.labels(state).set(by_state.get(state, 0))
    b = store.breaches.c
    for deadline, n in await session.execute(select(b.deadline, func.count()).group_by(b.deadline)):
        BREACHES.labels(deadline).set(n)
    # "This period" is the last month whose reports are due: the one before the current month.
    missing = len(await figures.missing_reports(session, Month.of(today).previous().key))
    REPORTS_MISSING.set(missing)
    REPORTS_LATE.set(missing if today.day > due_day else 0)
    COUNSELING_WAITING.set(await figures.counseling_waiting(session))
    UNITS_WITHOUT_CONTACT.set(len(await figures.units_without_contact(session, today)))


async def gauges_worker(runtime: ServiceRuntime) -> None:
    """Background worker (ServiceSpec.workers): refresh the business gauges every `GAUGES_INTERVAL`."""

    async def step() -> None:
        async with runtime.sessions() as session:
            today = runtime.clock.now().astimezone(VN).date()
            await refresh(session, today, runtime.settings.monthly_report_due_day)

    await run_worker("gauges", step, interval=runtime.settings.gauges_interval)
