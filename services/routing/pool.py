"""The candidate pool in one query: every assignable member with their current load, their latest
assignment with a field, whether they are on leave today and whether they cover the case's unit.

Why one query: routing must keep up with hundreds of `case.reported` a second, and this read happens
inside the assignment lock (`assignments.ASSIGNMENT_LOCK`), so its cost bounds throughput. The loads are
kept with the members (`members.open_load`, migration 0013: constant, where a GROUP BY over the open
assignments of live cases and requests grew with the work in hand); the latest assignment per member is
served by the partial index of migration 0002.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Date, Select, bindparam, exists, func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store
from services.routing.deadlines import VN
from services.routing.domain import ASSIGNABLE_ROLES, Candidate, is_available


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
    and their load are stored with them (`members.covered` and `members.open_load`, kept by routing migrations
    0011 and 0013's triggers): no `units` read and no count of open assignments here."""
    today = bindparam("today", type_=Date)
    m, a = store.members.c, store.assignments
    last = (
        select(func.max(a.c.assigned_at)).where(a.c.member_id == m.member_id, a.c.field.is_not(None)).scalar_subquery()
    )
    lv = store.leaves.c
    on_leave = exists().where(lv.member_id == m.member_id, lv.starts_on <= today, lv.ends_on >= today)
    return (
        select(store.members, last.label("last_assigned_at"), on_leave.label("on_leave"))
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
                load=row.open_load,
                capacity=row.capacity,
                last_assigned_at=row.last_assigned_at,
                available=is_available(today, row.active_from, row.active_to, leaves),
            )
        )
    return Pool(rows, candidates)
