"""Referrals: which ones meet the 12-hour emergency deadline (Decree 56 Art. 26–28)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store

# Bodies that take the emergency measures themselves (the commune People's Committee and its
# child-protection officer) or dispatch them at once (the police, hotline 111).
EMERGENCY_TARGETS = frozenset({"commune_committee", "commune_child_protection_officer", "police", "hotline_111"})


async def has_emergency_referral(session: AsyncSession, case_id: uuid.UUID) -> bool:
    """The 12-hour emergency deadline is met: the case was referred to a body that acts at once."""
    r = store.referrals.c
    query = select(r.referral_id).where(r.case_id == case_id, r.target.in_(sorted(EMERGENCY_TARGETS))).limit(1)
    return (await session.execute(query)).first() is not None
