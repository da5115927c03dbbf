"""The audit log of reads of children's data (DOMAIN.md §5), for a service that keeps some besides intake
(routing: opinions, proposals, outcomes, counseling answers). Intake keeps its own `intake.audit_log` of the
same shape. The row is written in the reading transaction, so no read goes unrecorded; the table is
append-only (a trigger, made by the service's migration, refuses UPDATE and DELETE)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, Column, DateTime, Identity, MetaData, String, Table
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal


def audit_table(metadata: MetaData) -> Table:
    return Table(
        "audit_log",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("account_id", UUID(as_uuid=True), nullable=False),
        Column("key_id", String(32), nullable=False),
        Column("role", String(20), nullable=False),
        Column("action", String(40), nullable=False),
        Column("case_id", UUID(as_uuid=True), nullable=True, index=True),  # or the counseling request's id
        Column("fields", ARRAY(String(32)), nullable=False),
        Column("address", String(64), nullable=True),  # the client's address, when known
    )


async def record_read(
    session: AsyncSession,
    table: Table,
    principal: Principal,
    *,
    action: str,
    subject_id: uuid.UUID,
    fields: Iterable[str],
    at: datetime,
    address: str | None = None,
) -> None:
    """Write who read which fields of which case (or counseling request: `action` tells them apart)."""
    await session.execute(
        table.insert().values(
            at=at,
            account_id=principal.account_id,
            key_id=principal.key_id,
            role=principal.role,
            action=action,
            case_id=subject_id,
            fields=sorted(fields),
            address=address,
        )
    )
