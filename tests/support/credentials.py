"""Credentials for tests: write one straight into a service's `credentials` table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.auth import new_token


async def grant(
    sessions: async_sessionmaker[AsyncSession],
    table: Table,
    role: str,
    *,
    unit: str | None = None,
    member_id: uuid.UUID | None = None,
) -> dict[str, str]:
    """Create a credential and return the request headers that carry it."""
    key_id, token, digest = new_token()
    async with sessions() as session, session.begin():
        await session.execute(
            table.insert().values(
                key_id=key_id,
                token_sha256=digest,
                account_id=uuid.uuid4(),
                role=role,
                unit=unit,
                member_id=member_id,
                issued_at=datetime.now(UTC),
            )
        )
    return {"Authorization": f"Bearer {token}"}
