"""Writing assignments: the one writer of assignment rows and their acceptance timers, for new cases (the
assigner, in batches), counseling requests and hand-overs. Decisions are serialised across replicas
(`_serialise_assignment`) so two subjects never both take a member's last slot.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, CTE, Table, bindparam, column, func, select, text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store
from services.routing.deadlines import STAGES, ladder
from services.routing.links import link_url
from services.routing.roster import (
    recipient,
)
from services.routing.settings import RoutingSettings
from shared.events.routing import (
    AssignmentInfo,
)
from shared.sealed import Sealer, links_context
from shared.uow import UnitOfWork

ASSIGNMENT_LOCK = "routing:assign"  # the advisory lock's name (the assigner takes it with its pending cases)


async def _serialise_assignment(session: AsyncSession) -> None:
    """One assignment decision at a time across replicas, so two cases cannot both take a member's last slot."""
    await session.execute(text(f"SELECT pg_advisory_xact_lock(hashtext('{ASSIGNMENT_LOCK}'))"))


# The columns `plan_assignment` and `_timer_rows` fill, in the order of `WRITES`'s parameters.
ASSIGNMENT_COLUMNS = (
    "assignment_id",
    "case_id",
    "request_id",
    "member_id",
    "field",
    "status",
    "assigned_at",
    "respond_by",
)
TIMER_COLUMNS = (
    "case_id",
    "request_id",
    "assignment_id",
    "deadline",
    "stage",
    "due_at",
    "fire_at",
    "chair_at",
    "committee_at",
)


def _rows_cte(table: Table, columns: tuple[str, ...], prefix: str) -> CTE:
    """`INSERT INTO table (columns) SELECT * FROM unnest(:prefix_column, ...)`: any number of rows as one
    array parameter per column, so the statement has one shape whatever the batch's size."""
    arrays = [bindparam(f"{prefix}_{name}", type_=ARRAY(table.c[name].type)) for name in columns]
    rows = func.unnest(*arrays).table_valued(*(column(name, table.c[name].type) for name in columns))
    return table.insert().from_select(list(columns), select(rows.render_derived())).cte(f"{prefix}_rows")


# A batch's assignments and timers as two INSERTs in the WITH clause of a statement of the caller's
# (`AssignmentBatch.params`): the assigner writes them with the UPDATE that settles its cases, in one round trip.
WRITES = (
    _rows_cte(store.assignments, ASSIGNMENT_COLUMNS, "assignment"),
    _rows_cte(store.timers, TIMER_COLUMNS, "timer"),
)


class AssignmentBatch:
    """The one writer of assignments: collects assignment rows, their acceptance timers and other timers
    of the same transaction, then writes them with two INSERTs (`write`), or gives them as the parameters
    of `WRITES` (`params`). New cases (the assigner, a batch of cases at once), counseling requests and
    hand-overs all go through it."""

    def __init__(self, settings: RoutingSettings, now: datetime) -> None:
        self.settings = settings
        self.now = now
        self.rows: list[dict[str, Any]] = []
        self.timers: list[dict[str, Any]] = []

    def add(
        self,
        member: Row,
        field: str | None,
        urgency: str,
        *,
        case_id: uuid.UUID | None = None,
        request_id: uuid.UUID | None = None,
    ) -> AssignmentInfo:
        window = timedelta(hours=self.settings.accept_within_hours(urgency))
        row, timers, info = plan_assignment(
            self.settings, member, field, now=self.now, window=window, case_id=case_id, request_id=request_id
        )
        self.rows.append(row)
        self.timers.extend(timers)
        return info

    def add_timers(self, planned: Iterable[Any], case_id: uuid.UUID | None, request_id: uuid.UUID | None) -> None:
        """Timers of the subject itself (a case's own deadlines), written with the assignments."""
        self.timers.extend(_timer_rows(planned, case_id, request_id))

    def params(self) -> dict[str, list[Any]]:
        """The parameters of `WRITES` for the rows collected (then forgotten, as after `write`)."""
        result = {f"assignment_{name}": [row[name] for row in self.rows] for name in ASSIGNMENT_COLUMNS}
        result |= {f"timer_{name}": [row.get(name) for row in self.timers] for name in TIMER_COLUMNS}
        self.rows, self.timers = [], []
        return result

    async def write(self, session: AsyncSession) -> None:
        if self.rows:
            await session.execute(store.assignments.insert(), self.rows)
        if self.timers:
            await session.execute(store.timers.insert(), self.timers)
        self.rows, self.timers = [], []


async def create_assignment(
    fx: UnitOfWork,
    member: Row,
    field: str | None,
    urgency: str,
    *,
    case_id: uuid.UUID | None = None,
    request_id: uuid.UUID | None = None,
) -> AssignmentInfo:
    """Record an assignment, plan its acceptance reminder and escalations, and describe it for notify."""
    (info,) = await create_assignments(fx, [(member, field)], urgency, case_id=case_id, request_id=request_id)
    return info


async def create_assignments(
    fx: UnitOfWork,
    picks: list[tuple[Row, str | None]],
    urgency: str,
    *,
    case_id: uuid.UUID | None = None,
    request_id: uuid.UUID | None = None,
) -> list[AssignmentInfo]:
    """`create_assignment` for several members at once: two INSERTs whatever their number (this runs
    inside the assignment lock, so round trips cost throughput)."""
    batch = AssignmentBatch(fx.settings, fx.now)
    infos = [batch.add(member, field, urgency, case_id=case_id, request_id=request_id) for member, field in picks]
    await batch.write(fx.session)
    return infos


def plan_assignment(
    settings: RoutingSettings,
    member: Row,
    field: str | None,
    *,
    now: datetime,
    window: timedelta,
    case_id: uuid.UUID | None,
    request_id: uuid.UUID | None,
) -> tuple[dict[str, Any], list[dict[str, Any]], AssignmentInfo]:
    """One assignment, not yet written: its row, its acceptance reminder and escalation timers, and how
    notify will describe it (with the signed accept/decline links)."""
    assignment_id = uuid.uuid4()
    respond_by = now + window
    row = {
        "assignment_id": assignment_id,
        "case_id": case_id,
        "request_id": request_id,
        "member_id": member.member_id,
        "field": field,
        "status": "pending",
        "assigned_at": now,
        "respond_by": respond_by,
    }
    timers = _timer_rows(ladder("acceptance", respond_by, window), case_id, request_id, assignment_id)
    ttl = timedelta(hours=settings.link_ttl_hours)
    links = {
        action: link_url(
            settings.public_base_url, settings.link_path, settings.link_secret, assignment_id, action, now, ttl
        )
        for action in ("accept", "decline")
    }
    info = AssignmentInfo(
        assignment_id=assignment_id,
        field=field,
        member=recipient(member),
        respond_by=respond_by,
        links=Sealer.from_settings(settings).seal("notify", links, links_context(assignment_id)),
    )
    return row, timers, info


def _timer_rows(
    planned: Iterable[Any],
    case_id: uuid.UUID | None,
    request_id: uuid.UUID | None,
    assignment_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """One row per deadline: its first stage, carrying the later stages' times (`chair_at`, `committee_at`);
    `timers.fire_due` writes the next stage's row when a stage fires (routing migration 0012)."""
    rows: dict[str, dict[str, Any]] = {}
    for p in planned:
        if p.stage != STAGES[0]:
            rows[p.deadline][f"{p.stage}_at"] = p.fire_at
            continue
        rows[p.deadline] = {
            "case_id": case_id,
            "request_id": request_id,
            "assignment_id": assignment_id,
            "deadline": p.deadline,
            "stage": p.stage,
            "due_at": p.due_at,
            "fire_at": p.fire_at,
            "chair_at": None,
            "committee_at": None,
        }
    return list(rows.values())


async def plan_timers(
    fx: UnitOfWork,
    planned: Iterable[Any],
    case_id: uuid.UUID | None,
    request_id: uuid.UUID | None,
    assignment_id: uuid.UUID | None = None,
) -> None:
    rows = _timer_rows(planned, case_id, request_id, assignment_id)
    if rows:
        await fx.session.execute(store.timers.insert(), rows)


async def required_fields(session: AsyncSession, category: str) -> list[str]:
    row = (await session.execute(select(store.categories).where(store.categories.c.code == category))).first()
    return list(row.fields) if row is not None else []
