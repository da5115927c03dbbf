"""The web service's tables (schema `web`): sessions only. No case data is ever stored here."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from shared.db import service_metadata

metadata = service_metadata("web")

# One row per signed-in browser. `id` is the SHA-256 of the cookie's value (the cookie alone opens it);
# `token` is the person's intake session token, encrypted with WEB_SESSION_KEY (AES-GCM, the id as AAD).
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("token", Text, nullable=False),
    Column("account", JSONB, nullable=False),  # id, name, role, unit, member, email (no child data)
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)
