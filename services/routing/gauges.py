"""Routing's business gauges on `/metrics`: deadlines passed right now with nobody acting, by clock.

A deadline is overdue when its reminder's due time has passed and it is still not met: the assignment is
still pending (acceptance), the case has not reached the state the clock asks for (Decree 56's 12-hour
emergency intervention, 5-working-day support plan), the counseling request is unanswered (answer). The
emergency clock is also met by a referral to a body that acts at once (`referrals.EMERGENCY_TARGETS`).
Refreshed by a worker (one grouped query), so a scrape never touches the database.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Gauge
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store
from services.routing.referrals import EMERGENCY_TARGETS
from services.routing.timers import MET
from shared.service import ServiceRuntime
from shared.worker import run_worker

OVERDUE = Gauge(
    "caunoi_deadlines_overdue",
    "Deadlines passed right now and not met, by clock (acceptance, emergency_intervention = Decree 56's 12 "
    "hours, support_plan = its 5 working days, answer = counseling).",
    ["deadline"],
)
DEADLINES = ("acceptance", "emergency_intervention", "support_plan", "answer")
INTERVAL_SECONDS = 30.0


async def overdue_now(session: AsyncSession, now: datetime) -> dict[str, int]:
    t, c, a, r = store.timers.c, store.cases.c, store.assignments.c, store.counseling_requests.c
    ref = store.referrals.c
    referred = exists().where(ref.case_id == t.case_id, ref.target.in_(sorted(EMERGENCY_TARGETS)))
    not_met = or_(
        and_(t.deadline == "acceptance", a.status == "pending"),
        *(
            and_(t.deadline == deadline, c.status.not_in(sorted(states | {"closed"})))
            for deadline, states in MET.items()
        ),
        and_(t.deadline == "answer", r.status != "answered"),
    )
    query = (
        select(t.deadline, func.count())
        .select_from(
            store.timers.outerjoin(store.assignments, a.assignment_id == t.assignment_id)
            .outerjoin(store.cases, c.case_id == t.case_id)
            .outerjoin(store.counseling_requests, r.request_id == t.request_id)
        )
        .where(t.stage == "reminder", t.due_at <= now, t.outcome.is_distinct_from("moot"), not_met)
        .where(or_(t.deadline != "emergency_intervention", ~referred))
        .group_by(t.deadline)
    )
    return {deadline: int(n) for deadline, n in await session.execute(query)}


async def gauges_worker(runtime: ServiceRuntime) -> None:
    """Background worker (ServiceSpec.workers): refresh the overdue gauges until the service stops."""

    async def refresh() -> int:
        async with runtime.sessions() as session:
            counts = await overdue_now(session, runtime.clock.now())
        for deadline in DEADLINES:
            OVERDUE.labels(deadline).set(counts.get(deadline, 0))
        return 0

    await run_worker("routing gauges", refresh, interval=INTERVAL_SECONDS)
