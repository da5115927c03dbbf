"""Reading the club's registry for a decision: members by id, people with a role, the candidates of a
choice (`pool.py`), and members as message recipients.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store
from services.routing.domain import Candidate
from services.routing.pool import Pool, load_pool
from shared.events import Recipient

ACTIVE = ("pending", "accepted")  # assignment states in which a member holds a field


def recipient(member: Row) -> Recipient:
    return Recipient(
        member_id=member.member_id,
        display_name=member.display_name,
        email=member.email,
        zalo_user_id=member.zalo_user_id,
        channels=tuple(member.channels) or ("email", "zalo"),
        quiet_start=member.quiet_start,
        quiet_end=member.quiet_end,
    )


async def members_by_id(session: AsyncSession) -> dict[uuid.UUID, Row]:
    return {row.member_id: row for row in await session.execute(select(store.members))}


async def with_roles(session: AsyncSession, *roles: str) -> list[Row]:
    result = await session.execute(
        select(store.members).where(store.members.c.club_role.in_(roles)).order_by(store.members.c.key)
    )
    return list(result)


async def chair_recipients(session: AsyncSession) -> tuple[Recipient, ...]:
    """The chair; the vice-chairs stand in when the club has no chair."""
    rows = await with_roles(session, "chair") or await with_roles(session, "vice_chair")
    return tuple(recipient(r) for r in rows)


async def committee_recipients(session: AsyncSession) -> tuple[Recipient, ...]:
    return tuple(recipient(r) for r in await with_roles(session, "committee"))


async def candidates(session: AsyncSession, now: datetime, unit: str | None = None) -> list[Candidate]:
    return (await load_pool(session, now, unit)).candidates


def chair_of(pool: Pool) -> tuple[Recipient, ...]:
    """`chair_recipients` from rows already loaded (the chair and vice-chairs are assignable)."""
    return tuple(recipient(r) for r in pool.with_roles("chair") or pool.with_roles("vice_chair"))
