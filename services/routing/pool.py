"""The candidate pool in one query: every assignable member with their current load, their latest
assignment with a field, whether they are on leave today and whether they cover the case's unit.

Why one query: routing must keep up with hundreds of `case.reported` a second, and this read happens
inside the assignment lock (`assignments.ASSIGNMENT_LOCK`), so its cost bounds throughput. The loads
are one GROUP BY over the open assignments of live cases and requests (partial indexes of migration 0010);
the latest assignment per member is served by the partial index of migration 0002.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Date, Select, bindparam, exists, func, select, union_all
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store
from services.routing.deadlines import VN
from services.routing.domain import ASSIGNABLE_ROLES, Candidate, is_available

OPEN = ("pending", "accepted")


@dataclass(frozen=True)
class Pool:
    """Assignable members (registry order, by `key`) and the policy's view of them."""

    rows: dict[uuid.UUID, Row]
    candidates: list[Candidate]

    def available(self) -> set[uuid.UUID]:
        return {c.member_id for c in self.candidates if c.available}

    def with_roles(self, *roles: str) -> list[Row]:
        return [row for row in self.rows.values() if row.club_role in roles]


def _pool_query() -> Select:
    """Built once (bound parameter `today`), so SQLAlchemy's compiled cache is hit cheaply. What a member covers
    is stored with them (`members.covered`, kept by routing migration 0011's triggers): no `units` read here."""
    today = bindparam("today", type_=Date)
    m, a, c, r = store.members.c, store.assignments, store.cases, store.counseling_requests
    # Each member's load in one GROUP BY driven by the live subjects (cases not closed, requests not answered;
    # partial indexes of migration 0010) and their open assignments with a field: its cost follows the work in
    # hand, not the history (accepted assignments stay so once their case is closed). Every assignment's subject
    # is a row of routing's (neither is ever deleted), so this counts what the old outer joins counted.
    open_with_field = (a.c.status.in_(OPEN), a.c.field.is_not(None))
    held = union_all(
        select(a.c.member_id, a.c.case_id.label("subject"))
        .select_from(c.join(a, a.c.case_id == c.c.case_id))
        .where(c.c.status != "closed", *open_with_field),
        select(a.c.member_id, a.c.request_id.label("subject"))
        .select_from(r.join(a, a.c.request_id == r.c.request_id))
        .where(r.c.status != "answered", *open_with_field),
    ).subquery("held")
    loads = (
        select(held.c.member_id, func.count(func.distinct(held.c.subject)).label("load"))
        .group_by(held.c.member_id)
        .subquery("loads")
    )
    load = func.coalesce(loads.c.load, 0)
    last = (
        select(func.max(a.c.assigned_at)).where(a.c.member_id == m.member_id, a.c.field.is_not(None)).scalar_subquery()
    )
    lv = store.leaves.c
    on_leave = exists().where(lv.member_id == m.member_id, lv.starts_on <= today, lv.ends_on >= today)
    return (
        select(
            store.members,
            load.label("load"),
            last.label("last_assigned_at"),
            on_leave.label("on_leave"),
        )
        .select_from(store.members.outerjoin(loads, loads.c.member_id == m.member_id))
        .where(m.club_role.in_(ASSIGNABLE_ROLES))
        .order_by(m.key)
    )


_QUERY = _pool_query()


async def load_pool(session: AsyncSession, now: datetime, unit: str | None = None) -> Pool:
    """The pool for a subject of `unit`: each candidate's `units` is that unit if they cover it, else empty."""
    covering, none = frozenset({unit}) if unit is not None else frozenset(), frozenset[str]()
    return await _load(session, now, lambda row: covering if unit in row.covered else none)


async def load_covering_pool(session: AsyncSession, now: datetime) -> Pool:
    """The pool for subjects of any unit: each candidate's `units` is every unit they cover."""
    return await _load(session, now, lambda row: frozenset(row.covered))


async def _load(session: AsyncSession, now: datetime, units: Callable[[Row], frozenset[str]]) -> Pool:
    today = now.astimezone(VN).date()
    rows: dict[uuid.UUID, Row] = {}
    candidates: list[Candidate] = []
    for row in await session.execute(_QUERY, {"today": today}):
        rows[row.member_id] = row
        leaves = [(today, today)] if row.on_leave else []
        candidates.append(
            Candidate(
                member_id=row.member_id,
                fields=frozenset(row.fields),
                units=units(row),
                load=row.load or 0,
                capacity=row.capacity,
                last_assigned_at=row.last_assigned_at,
                available=is_available(today, row.active_from, row.active_to, leaves),
            )
        )
    return Pool(rows, candidates)
