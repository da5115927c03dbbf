"""Assignment of reported cases in batches.

Why batches: every assignment decision must see the previous one (capacity, least recently assigned),
so decisions are serialised across replicas by `assignments._serialise_assignment` and each must commit
before the next reads the pool. Done one case per transaction, the lock is held for a pool read, a
handful of INSERTs and a commit per case, which capped routing at a few dozen cases a second. The
`case.reported` handler therefore only records the case (`assign_pending`), and this worker, in every
replica, takes up to `ASSIGN_BATCH_SIZE` pending cases (`FOR UPDATE SKIP LOCKED`), reads the pool
once, decides for each case in order while counting its picks, and writes every assignment, timer and
event of the batch in a few statements and one commit. Effects are the same as case by case.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ARRAY, any_, bindparam, func, literal, select, true
from sqlalchemy import case as when
from sqlalchemy.engine import Row

from services.routing import store
from services.routing.assignments import ASSIGNMENT_LOCK, WRITES, AssignmentBatch
from services.routing.cases import case_deadlines
from services.routing.domain import check_transition, decide
from services.routing.pool import Pool, load_covering_pool
from services.routing.roster import chair_of
from services.routing.settings import RoutingSettings
from shared.events import Event
from shared.events.routing import AssignmentInfo, CaseAssigned, CaseStatusChanged
from shared.outbox import Cause
from shared.service import ServiceRuntime
from shared.uow import UnitOfWork, unit_of_work
from shared.worker import run_worker

log = logging.getLogger(__name__)


ASSIGNER = "assigner"  # the worker's name: `ctx.wake(ASSIGNER)` after recording a case


async def assignment_worker(runtime: ServiceRuntime) -> None:
    """Background worker (ServiceSpec.workers): assign pending cases until the service stops; woken by the
    `case.reported` handler's commit, with a slow poll (`ASSIGN_POLL_INTERVAL`) as the fallback."""
    settings: RoutingSettings = runtime.settings
    await run_worker(
        ASSIGNER,
        lambda: assign_pending(runtime),
        interval=settings.assign_poll_interval,
        signal=runtime.signals[ASSIGNER],
        busy=lambda done: done >= settings.assign_batch_size,
    )


async def assign_pending(runtime: ServiceRuntime) -> int:
    """Assign up to one batch of pending cases in one transaction. Returns how many it assigned."""
    async with unit_of_work(runtime) as uow:
        return await assign_batch(uow)


def _statements() -> SimpleNamespace:
    """The assigner's statements, built once (a batch runs them all inside the assignment lock; building and
    caching a construct per batch was a measurable share of routing's CPU)."""
    c, known = store.cases.c, store.categories.c
    fields_of_category = select(known.fields).where(known.code == c.category).scalar_subquery()
    # Arrays, not IN lists: one statement whatever the batch's size (prepared once per connection).
    case_ids = ARRAY(c.case_id.type)
    assigned = (c.case_id == any_(bindparam("assigned", type_=case_ids))) & (c.status == "reported")
    # The assignment lock (`assignments._serialise_assignment`), taken by the statement that finds the pending
    # cases: a pending case comes back only once the lock is held, and the pool is read by a later statement
    # (so its snapshot sees every decision committed before). One round trip less per batch.
    lock = select(func.pg_advisory_xact_lock(func.hashtext(literal(ASSIGNMENT_LOCK))).label("held")).cte("locked")
    return SimpleNamespace(
        # The pending cases with their category's fields as of now (NULL: a category routing does not know).
        pending=select(store.cases, fields_of_category.label("category_fields"))
        .select_from(store.cases.join(lock, true()))
        .where(c.assign_pending)
        .order_by(c.reported_at, c.case_id)
        .limit(bindparam("limit"))
        .with_for_update(of=store.cases, skip_locked=True),
        # One UPDATE for the batch: every case leaves the pending set with its category's fields; those with
        # an assignment that are still `reported` become `assigned`. The batch's assignments and timers are
        # written by the same statement (`assignments.WRITES`).
        settle=store.cases.update()
        .add_cte(*WRITES)
        .where(c.case_id == any_(bindparam("ids", type_=case_ids)))
        .values(
            assign_pending=False,
            required_fields=func.coalesce(fields_of_category, c.required_fields),
            status=when((assigned, "assigned"), else_=c.status),
            updated_at=when((assigned, bindparam("now")), else_=c.updated_at),
        ),
    )


_SQL = _statements()


async def assign_batch(uow: UnitOfWork) -> int:
    settings: RoutingSettings = uow.settings
    now = uow.now
    session = uow.session
    cases = list(await session.execute(_SQL.pending, {"limit": settings.assign_batch_size}))
    if not cases:
        return 0
    ids = [case.case_id for case in cases]
    roster = _Roster(await load_covering_pool(session, now))
    batch = AssignmentBatch(settings, now)
    events: list[tuple[Event, uuid.UUID, Cause]] = []
    assigned: list[uuid.UUID] = []
    for row in cases:
        case = _with_fields(row, row.category_fields or [])
        batch.add_timers(case_deadlines(settings, case), case.case_id, None)
        infos = _decide(now, case, roster, batch)
        missing = infos.missing
        events.append(
            _caused_by_report(
                CaseAssigned(
                    case_id=case.case_id,
                    code=case.code,
                    unit=case.unit,
                    category=case.category,
                    urgency=case.urgency,
                    protection_level=case.protection_level,
                    assignments=tuple(infos.infos),
                    missing_fields=missing,
                    chair=roster.chair if missing else (),
                    assigned_at=now,
                ),
                case,
            )
        )
        # The chair may have added someone meanwhile (the case is then already `assigned`).
        if infos.infos and case.status == "reported":
            check_transition(case.status, "assigned")
            assigned.append(case.case_id)
            events.append(
                _caused_by_report(
                    CaseStatusChanged(
                        case_id=case.case_id,
                        code=case.code,
                        from_status=case.status,
                        to_status="assigned",
                        changed_at=now,
                    ),
                    case,
                )
            )
    await uow.emit_many(events)
    await session.execute(_SQL.settle, {"ids": ids, "assigned": assigned, "now": now, **batch.params()})
    return len(cases)


class _Roster:
    """What every case of a batch decides against: the pool (its candidates' load counted as cases are
    decided) and, fixed for the batch, the available board, the available chairs and the chair to tell."""

    def __init__(self, pool: Pool) -> None:
        available = pool.available()
        self.pool = pool
        self.board = [m.member_id for m in pool.with_roles("chair", "vice_chair") if m.member_id in available]
        self.chairs = [m.member_id for m in pool.with_roles("chair") if m.member_id in available]
        self.chair = chair_of(pool)
        self.index = {cand.member_id: i for i, cand in enumerate(pool.candidates)}


class _Decision:
    def __init__(self, infos: list[AssignmentInfo], missing: tuple[str, ...]) -> None:
        self.infos = infos
        self.missing = missing


def _decide(now: Any, case: Any, roster: _Roster, batch: AssignmentBatch) -> _Decision:
    """One case's decision (`domain.decide`, the same as a hand-over's), counted into the pool so the next
    case sees it, and its assignments added to the batch."""
    pool = roster.pool
    decision = decide(
        list(case.required_fields),
        case.unit,
        pool.candidates,
        urgency=case.urgency,
        board=roster.board,
        chairs=roster.chairs,
    )
    # The field picks now count: one more open case each and the most recent assignment.
    for member in {member for member, field in decision.picks if field is not None}:
        i = roster.index[member]
        cand = pool.candidates[i]
        pool.candidates[i] = replace(cand, load=cand.load + 1, last_assigned_at=now)
    infos = [
        batch.add(pool.rows[member], field, case.urgency, case_id=case.case_id) for member, field in decision.picks
    ]
    return _Decision(infos, decision.missing)


def _with_fields(case: Row, fields: list[str]) -> Any:
    """The case row with the category's fields as of now (a category unknown to routing has none)."""
    values = case._asdict() | {"required_fields": fields}
    values.pop("category_fields", None)
    return SimpleNamespace(**values)


def _caused_by_report(event: Event, case: Row) -> tuple[Event, uuid.UUID, Cause]:
    """An event of the case, caused by its `case.reported` (whose ids the case row keeps)."""
    return event, case.case_id, Cause(case.reported_event_id, case.correlation_id)
