"""Notify's tables (schema `notify`)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.auth import credentials_table
from shared.db import service_metadata
from shared.outbox import inbox_table, outbox_table

metadata = service_metadata("notify")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
credentials = credentials_table(metadata)

STATUSES = ("pending", "sending", "sent", "fell_back", "dead", "skipped")

# One message to one person on one channel. Created by a handler in the consumer's transaction (unique per
# source event × recipient × channel, so a redelivered event adds nothing); sent by the dispatcher, which
# claims due rows with FOR UPDATE SKIP LOCKED and keeps attempts and the next try here (retries survive
# restarts). `dead` is the dead-letter state: no attempt or fallback remains.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),  # the notification_id of notification.* events
    Column("source_event_id", UUID(as_uuid=True), nullable=False),
    # The source event's correlation: `notification.*` events are caused by the source event (migration 0003).
    Column("correlation_id", UUID(as_uuid=True), nullable=True),
    Column("source_type", String(100), nullable=False),
    Column("template", String(64), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("recipient_key", String(200), nullable=False),
    Column("member_id", UUID(as_uuid=True), nullable=True, index=True),
    Column("recipient_name", String(200), nullable=False),
    Column("email", String(320), nullable=True),
    Column("zalo_user_id", String(64), nullable=True),
    Column("case_id", UUID(as_uuid=True), nullable=True, index=True),
    Column("request_id", UUID(as_uuid=True), nullable=True),
    Column("code", String(40), nullable=True),
    Column("urgency", String(16), nullable=True),
    Column("context", JSONB, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("reason", String(300), nullable=True),
    Column("fallback_of", UUID(as_uuid=True), nullable=True),
    Column("provider_id", String(300), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("source_event_id", "recipient_key", "channel"),
    CheckConstraint("channel IN ('email', 'zalo')", name="channel"),
    CheckConstraint(f"status IN {STATUSES}", name="status"),
    Index("ix_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    Index("ix_deliveries_leased", "lease_until", postgresql_where=text("status = 'sending'")),
)

# The OA token pair: one row (id = 1). The refresh token is single-use, so a refresh locks this row, calls
# Zalo and stores the new pair in the same transaction; replicas wait on the lock and reuse the result.
zalo_tokens = Table(
    "zalo_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("generation", Integer, nullable=False, server_default=text("0")),
    Column("refreshed_at", DateTime(timezone=True), nullable=True),
)

# Who follows the OA and when they last wrote to it (from zalo.user_activity): the 7-day window.
zalo_users = Table(
    "zalo_users",
    metadata,
    Column("zalo_user_id", String(64), primary_key=True),
    Column("following", Boolean, nullable=False),
    Column("last_interaction_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Whether a delivery's Zalo recipient still follows the OA (None: not known), read with the delivery when it is
# claimed (`dispatcher.py`) or inserted claimed (`handlers.py`).
FOLLOWING = literal_column(
    # Written out: in an INSERT's RETURNING, SQLAlchemy would not correlate a subquery with the inserted row.
    "(SELECT u.following FROM notify.zalo_users AS u WHERE u.zalo_user_id = notify.deliveries.zalo_user_id)",
    Boolean,
)
