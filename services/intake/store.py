"""Intake's tables (schema `intake`).

Children's identifying fields live only in `case_children`, each value encrypted (`crypto.FieldCipher`),
tagged with the id of the key that encrypted it. `audit_log` is append-only (a trigger refuses UPDATE
and DELETE).
"""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.auth import credentials_table
from shared.db import service_metadata
from shared.outbox import inbox_table, outbox_table

metadata = service_metadata("intake")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
credentials = credentials_table(metadata)

units = Table(
    "units",
    metadata,
    Column("code", String(100), primary_key=True),
    Column("name_vi", String(200), nullable=False),
    Column("kind", String(50), nullable=False),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    Column("contact_email", String(254), nullable=True),
    Column("contact_zalo_user_id", String(64), nullable=True),
    Column("note", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

unit_successors = Table(
    "unit_successors",
    metadata,
    Column("old_unit", String(100), ForeignKey("units.code"), primary_key=True),
    Column("new_unit", String(100), ForeignKey("units.code"), primary_key=True),
)

categories = Table(
    "categories",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name_vi", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("fields", ARRAY(String(32)), nullable=False),
    Column("suggested_urgency", String(16), nullable=False),
    Column("basis", Text, nullable=True),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

special_circumstances = Table(
    "special_circumstances",
    metadata,
    Column("code", String(8), primary_key=True),
    Column("name_vi", String(300), nullable=False),
    Column("name_en", String(300), nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("unit", String(100), nullable=True),
    Column("member_id", UUID(as_uuid=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # People sign in with email + password (migration 0003); machines keep bearer tokens only.
    Column("email", String(254), nullable=True),  # lower-cased, NFC; unique (index ux_accounts_email)
    Column("password_hash", Text, nullable=True),  # argon2id (PHC string); NULL until an invitation is used
    Column("password_set_at", DateTime(timezone=True), nullable=True),
    Column("disabled_at", DateTime(timezone=True), nullable=True),  # migration 0004: no sign-in, links, credentials
    Index("ux_accounts_email", "email", unique=True, postgresql_where=text("email IS NOT NULL")),
)

# One-time links (invitation: first password; reset: a new one). Only the SHA-256 of the token is kept.
account_tokens = Table(
    "account_tokens",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("account_id", UUID(as_uuid=True), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # invitation | reset
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Column("invalidated_at", DateTime(timezone=True), nullable=True),
)

# Every sign-in attempt (never the password). Failed ones within a window drive the 429s, in the database
# so every replica counts the same attempts.
signin_attempts = Table(
    "signin_attempts",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=True),  # NULL: no account has that email
    Column("address", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),  # success | failure | limited
    Index("ix_signin_attempts_account", "account_id", "at"),
    Index("ix_signin_attempts_address", "address", "at"),
)

# Which credentials are sign-in sessions (revoked when the password changes), for whom, since when.
signin_sessions = Table(
    "signin_sessions",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("account_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("address", String(64), nullable=False),
)

cases = Table(
    "cases",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("unit", String(100), nullable=False, index=True),
    Column("category", String(64), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("protection_level", String(16), nullable=False),
    Column("special_circumstances", ARRAY(String(8)), nullable=False),
    Column("occurred_on", Date, nullable=True),
    Column("occurred_at", DateTime(timezone=True), nullable=True),
    Column("learned_at", DateTime(timezone=True), nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Column("summary", Text, nullable=False),
    # Filed below its category's emergency floor: the floor and the reporter's reason (the chair reads it).
    Column("suggested_urgency", String(16), nullable=True),
    Column("urgency_reason", Text, nullable=True),
    Column("status", String(32), nullable=False),
    Column("status_changed_at", DateTime(timezone=True), nullable=True),
    Column("age_band", String(8), nullable=False),
    Column("legal_basis", String(64), nullable=False),
    Column("child_consent", JSONB(none_as_null=True), nullable=True),
    Column("guardian_consent", JSONB(none_as_null=True), nullable=True),
    Column("reporter_contact", Text, nullable=True),  # encrypted JSON
    Column("reported_by", UUID(as_uuid=True), nullable=False),
    Column("identity_hash", String(64), nullable=True),
    Column("possible_duplicate_of", UUID(as_uuid=True), nullable=True),
    Index("ix_cases_identity_hash", "identity_hash", "reported_at"),
)

# One row per case that has any child data; each column is `crypto` ciphertext or NULL.
CHILD_FIELDS = ("name", "date_of_birth", "age", "sex", "address", "school", "guardian", "contact")
case_children = Table(
    "case_children",
    metadata,
    Column("case_id", UUID(as_uuid=True), ForeignKey("cases.id"), primary_key=True),
    *(Column(field, Text, nullable=True) for field in CHILD_FIELDS),
)

# Which members routing put on which case (`case.assigned`, `case.members_changed`): a member reads only
# the cases it is on. `changed_at` keeps the latest word when events arrive out of order.
case_members = Table(
    "case_members",
    metadata,
    Column("case_id", UUID(as_uuid=True), primary_key=True),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("on_case", Boolean, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

# Which members routing gave which counseling request (`counseling_request.assigned`): such a member may
# read the requester's words (`GET /v1/counseling-requests/{id}/messages`, audited).
counseling_members = Table(
    "counseling_members",
    metadata,
    Column("request_id", UUID(as_uuid=True), primary_key=True),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
)

# Superseded by the per-year sequences `intake.case_code_<year>` (migration 0002); kept for their start values.
case_counters = Table(
    "case_counters",
    metadata,
    Column("year", Integer, primary_key=True),
    Column("last", Integer, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("account_id", UUID(as_uuid=True), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_sha256", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("role", String(20), nullable=False),
    Column("action", String(40), nullable=False),
    Column("case_id", UUID(as_uuid=True), nullable=True, index=True),
    Column("fields", ARRAY(String(32)), nullable=False),
)

monthly_reports = Table(
    "monthly_reports",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("unit", String(100), nullable=False),
    Column("period", String(7), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("submitted_by", UUID(as_uuid=True), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("on_time", Boolean, nullable=False),
    Column("cases_by_category", JSONB, nullable=False),
    Column("special_circumstances_known", JSONB, nullable=False),
    Column("activities_held", Integer, nullable=False),
    Column("notes", Text, nullable=True),
    UniqueConstraint("unit", "period", "revision"),
)

counseling_requests = Table(
    "counseling_requests",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("secret_sha256", String(64), nullable=True),  # NULL for Zalo requests (answered over Zalo)
    Column("topic", String(64), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("age_band", String(8), nullable=False),
    Column("contact", Text, nullable=True),  # encrypted JSON
    Column("zalo_user_id", String(64), nullable=True, index=True),
    Column("status", String(16), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("answer_text", Text, nullable=True),
    Column("answered_at", DateTime(timezone=True), nullable=True),
)

# The requester's words, possibly about a child: encrypted like children's data.
counseling_messages = Table(
    "counseling_messages",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("request_id", UUID(as_uuid=True), ForeignKey("counseling_requests.id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(8), nullable=False),  # text | image
    Column("body", Text, nullable=False),  # encrypted: the text, or the image's URL (kept as a reference)
    Column("zalo_msg_id", String(100), nullable=True),
)

zalo_events = Table(
    "zalo_events",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("dedupe_key", String(130), nullable=False, unique=True),
    Column("event_name", String(64), nullable=False),
    Column("raw", Text, nullable=False),  # encrypted raw body: it may hold a child's words
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("error", Text, nullable=True),
    Index("ix_zalo_events_pending", "id", postgresql_where=text("processed_at IS NULL")),
)

zalo_users = Table(
    "zalo_users",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("following", Boolean, nullable=False, server_default=text("false")),
    Column("followed_at", DateTime(timezone=True), nullable=True),
    Column("unfollowed_at", DateTime(timezone=True), nullable=True),
    Column("last_interaction_at", DateTime(timezone=True), nullable=True),
)
