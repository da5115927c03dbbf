"""Deadline timers: rows in `routing.timers`, fired by a worker in every replica.

Each sweep locks the due rows with `SELECT ... FOR UPDATE SKIP LOCKED`, emits the reminder or the
escalation into the outbox and marks the row fired, all in one transaction: with several replicas a
timer fires exactly once, and a restart loses none (the rows are the state). A timer whose deadline was
met meanwhile (the member accepted, the case moved on) is marked `moot` and emits nothing. A deadline's
ladder is one row at first (its reminder, carrying the later stages' times); firing a stage writes the next
stage's row in the same transaction (`_next_stage`), so the reminder always precedes the chair's
escalation, which precedes the committee's (rows planned before migration 0012 have all three and wait for
the earlier stage's row). Time comes from the runtime's clock (tests move it).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row

from services.routing import store
from services.routing.answers import LEAVE_START, release_if_unavailable
from services.routing.deadlines import STAGES
from services.routing.referrals import has_emergency_referral
from services.routing.roster import ACTIVE, chair_recipients, committee_recipients, members_by_id, recipient
from services.routing.settings import RoutingSettings
from shared.events.routing import CaseEscalated, DeadlineReminder
from shared.service import ServiceRuntime
from shared.uow import UnitOfWork, unit_of_work
from shared.worker import run_worker

log = logging.getLogger(__name__)

# Case states in which a deadline is met. The emergency deadline is met by a recorded referral to a body
# that acts at once (`referrals.has_emergency_referral`), not by a member's opinion or the case moving on.
MET = {
    "emergency_intervention": {"closed"},
    "support_plan": {"forwarded", "closed"},
}


async def timer_worker(runtime: ServiceRuntime) -> None:
    """Background worker (ServiceSpec.workers): sweep due timers until the service stops."""
    settings: RoutingSettings = runtime.settings
    runtime.extras.setdefault("timer_sweeps", 0)

    def count_sweep() -> None:
        runtime.extras["timer_sweeps"] += 1

    await run_worker(
        "timers",
        lambda: sweep(runtime),
        interval=settings.timer_poll_interval,
        signal=runtime.signals["timers"],
        busy=lambda fired: fired >= settings.timer_batch_size,
        after_step=count_sweep,
    )


async def sweep(runtime: ServiceRuntime) -> int:
    """Fire the timers due now, once each. Returns how many rows it settled."""
    async with unit_of_work(runtime) as fx:
        return await fire_due(fx)


async def fire_due(fx: UnitOfWork) -> int:
    settings: RoutingSettings = fx.settings
    t = store.timers.c
    due = list(
        await fx.session.execute(
            select(store.timers)
            .where(t.fired_at.is_(None), t.fire_at <= fx.now)
            .order_by(t.fire_at, t.id)
            .limit(settings.timer_batch_size)
            .with_for_update(skip_locked=True)
        )
    )
    settled = 0
    for timer in due:
        if not await _earlier_stage_fired(fx, timer):
            continue  # held by another replica or not yet due: keeps the order
        outcome = await fire(fx, timer)
        await fx.session.execute(
            store.timers.update().where(t.id == timer.id).values(fired_at=fx.now, outcome=_STORED[outcome])
        )
        if (later := _next_stage(timer, outcome)) is not None:
            await fx.session.execute(store.timers.insert(), later)
        settled += 1
    return settled


# `fire`'s outcomes as stored: `answered` is `moot` for good (the ladder stops there).
_STORED = {"emitted": "emitted", "moot": "moot", "answered": "moot"}


def _next_stage(timer: Row, outcome: str) -> dict[str, Any] | None:
    """The row of the ladder's next stage (its time carried by this row, migration 0012), written as this one
    fires: a later stage waits for the earlier one by construction. None after the last stage, for rows
    planned before 0012 (their later stages are rows already) and once the acceptance was answered or handed
    over (`answered`: every later stage would be `moot`, as an assignment never becomes pending again)."""
    index = STAGES.index(timer.stage) + 1
    if index == len(STAGES) or outcome == "answered":
        return None
    fire_at = getattr(timer, f"{STAGES[index]}_at")
    if fire_at is None:
        return None
    values = dict(timer._mapping)
    del values["id"]
    return values | {"stage": STAGES[index], "fire_at": fire_at, "fired_at": None, "outcome": None}


async def _earlier_stage_fired(fx: UnitOfWork, timer: Row) -> bool:
    index = STAGES.index(timer.stage)
    if index == 0:
        return True
    t = store.timers.c
    previous = (
        await fx.session.execute(
            select(t.fired_at).where(
                t.deadline == timer.deadline,
                t.stage == STAGES[index - 1],
                t.case_id.is_not_distinct_from(timer.case_id),
                t.request_id.is_not_distinct_from(timer.request_id),
                t.assignment_id.is_not_distinct_from(timer.assignment_id),
            )
        )
    ).first()
    return previous is None or previous.fired_at is not None


async def fire(fx: UnitOfWork, timer: Row) -> str:
    """Emit the timer's reminder or escalation unless its deadline was met. Returns `emitted`, `moot`, or
    `answered` (an acceptance no longer pending: moot, and so will every later stage be).

    A `leave_start` timer instead hands over the open assignments of a member whose leave begins today.
    """
    session = fx.session
    if timer.deadline == LEAVE_START:
        await release_if_unavailable(fx, timer.member_id)
        return "emitted"
    if timer.case_id is not None:
        subject = (await session.execute(select(store.cases).where(store.cases.c.case_id == timer.case_id))).one()
        urgency = subject.urgency
        if subject.status in MET.get(timer.deadline, set()) or subject.status == "closed":
            return "moot"
        if timer.deadline == "emergency_intervention" and await has_emergency_referral(session, timer.case_id):
            return "moot"
    else:
        subject = (
            await session.execute(
                select(store.counseling_requests).where(store.counseling_requests.c.request_id == timer.request_id)
            )
        ).one()
        urgency = fx.settings.counseling_urgency
        if subject.status == "answered":
            return "moot"
    a = store.assignments.c
    if timer.assignment_id is not None:
        holders = list(
            await session.execute(
                select(store.assignments).where(a.assignment_id == timer.assignment_id, a.status == "pending")
            )
        )
        if not holders:
            return "answered"  # or handed over: the new holder has timers of their own (stored as `moot`)
    else:
        subject_filter = a.case_id == timer.case_id if timer.case_id else a.request_id == timer.request_id
        holders = list(await session.execute(select(store.assignments).where(subject_filter, a.status.in_(ACTIVE))))
    common = {
        "case_id": timer.case_id,
        "request_id": timer.request_id,
        "code": subject.code,
        "deadline": timer.deadline,
        "due_at": timer.due_at,
        "urgency": urgency,
    }
    key = timer.case_id or timer.request_id
    if timer.stage == "reminder":
        members = await members_by_id(session)
        recipients = tuple(recipient(members[h.member_id]) for h in holders)
        if not recipients:
            recipients = await chair_recipients(session)
        await fx.emit(DeadlineReminder(**common, recipients=recipients), key)
    else:
        recipients = await (chair_recipients(session) if timer.stage == "chair" else committee_recipients(session))
        await fx.emit(CaseEscalated(**common, level=timer.stage, recipients=recipients, escalated_at=fx.now), key)
    return "emitted"
