"""Reporting's tables (schema `reporting`)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String, Table, func
from sqlalchemy.dialects.postgresql import UUID

from shared.auth import credentials_table
from shared.db import service_metadata
from shared.outbox import inbox_table, outbox_table

metadata = service_metadata("reporting")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
credentials = credentials_table(metadata)

cases = Table(
    "cases",
    metadata,
    Column("case_id", UUID(as_uuid=True), primary_key=True),
    Column("code", String(32), nullable=False),
    Column("unit", String(100), nullable=False),
    Column("category", String(64), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("period", String(7), nullable=False, index=True),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
