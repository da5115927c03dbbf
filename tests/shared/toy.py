"""A throw-away schema with the shared outbox/inbox tables, to test the mechanisms on their own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Column, Integer, String, Table, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import service_metadata
from shared.events.intake import CaseReported
from shared.outbox import inbox_table, outbox_table, outbox_trigger_sql


class ToySchema:
    def __init__(self) -> None:
        self.schema = f"toy_{uuid.uuid4().hex[:8]}"
        self.metadata = service_metadata(self.schema)
        self.outbox = outbox_table(self.metadata)
        self.inbox = inbox_table(self.metadata)
        self.effects = Table(
            "effects",
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("code", String(50), nullable=False),
        )

    async def create(self, engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            await conn.run_sync(self.metadata.create_all)
            for statement in outbox_trigger_sql(self.schema):
                await conn.execute(text(statement))


def case_reported(code: str, case_id: uuid.UUID | None = None) -> CaseReported:
    return CaseReported(
        case_id=case_id or uuid.uuid4(),
        code=code,
        unit="xa-tan-thanh",
        category="neglect",
        urgency="high",
        protection_level="support",
        reported_at=datetime.now(UTC),
    )
