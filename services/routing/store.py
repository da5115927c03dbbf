"""Routing's tables (schema `routing`).

Members and their leave, the taxonomy's expert fields and the unit successor map (copies kept from
events), the cases and counseling requests routing follows, their assignments, opinions, the timers
that drive deadlines, and the signatures of accept/decline links already used.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from shared.audit import audit_table
from shared.auth import credentials_table
from shared.case_keys import case_keys_table
from shared.db import service_metadata
from shared.outbox import inbox_table, outbox_table

metadata = service_metadata("routing")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
credentials = credentials_table(metadata)
# Reads of the free text about a child routing keeps (opinions, proposal, outcome, counseling answers): append-only.
audit_log = audit_table(metadata)
# Each case's own key for its opinions, proposal and outcome (shared/case_keys.py): destroyed on consent withdrawal.
case_keys = case_keys_table(metadata)

members = Table(
    "members",
    metadata,
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    # A stable handle from the CSV (e.g. `tinh-doan-1`), so imports update instead of duplicating.
    Column("key", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("organisation", String(200), nullable=False),
    Column("organisation_kind", String(20), nullable=False),  # provincial | department | district | committee
    Column("club_role", String(20), nullable=False),  # chair | vice_chair | board_member | member | committee
    Column("fields", ARRAY(String(20)), nullable=False, server_default="{}"),
    Column("units", ARRAY(String(100)), nullable=False, server_default="{}"),
    # Every unit the member covers: `units`, the communes that succeeded a former district listed there and the
    # former districts succeeded by a commune listed there. Kept by triggers on `members` and `units` (routing
    # migration 0011) whoever writes either; never written by the application.
    Column("covered", ARRAY(String(100)), nullable=False, server_default="{}"),
    Column("email", String(254), nullable=True),
    Column("zalo_user_id", String(64), nullable=True),
    Column("phone", String(32), nullable=True),
    Column("channels", ARRAY(String(10)), nullable=False, server_default="{email,zalo}"),
    Column("quiet_start", Time, nullable=True),
    Column("quiet_end", Time, nullable=True),
    Column("active_from", Date, nullable=True),
    Column("active_to", Date, nullable=True),
    Column("capacity", Integer, nullable=False, server_default=text("5")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The member's load: live subjects (cases not closed, requests not answered) on which they hold an open
    # assignment with a field. Kept by triggers on `assignments`, `cases` and `counseling_requests` (routing
    # migration 0013) with `member_holdings`; never written by the application.
    Column("open_load", Integer, nullable=False, server_default=text("0")),
    CheckConstraint("capacity >= 0", name="capacity_not_negative"),
)

# Open assignments with a field a member holds on a subject (a case or a counselling request), while above zero:
# what `members.open_load` is kept from (routing migration 0013's triggers; never written by the application).
member_holdings = Table(
    "member_holdings",
    metadata,
    Column("member_id", UUID(as_uuid=True), ForeignKey("routing.members.member_id"), primary_key=True),
    Column("subject", UUID(as_uuid=True), primary_key=True),
    Column("open", Integer, nullable=False),
    Index("ix_member_holdings_subject", "subject"),
)

leaves = Table(
    "leaves",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("member_id", UUID(as_uuid=True), ForeignKey("routing.members.member_id", ondelete="CASCADE"), index=True),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    CheckConstraint("ends_on >= starts_on", name="ordered"),
)

categories = Table(
    "categories",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name_vi", String(200), nullable=False),
    Column("fields", ARRAY(String(20)), nullable=False, server_default="{}"),
    Column("active", Boolean, nullable=False, server_default=text("true")),
)

units = Table(
    "units",
    metadata,
    Column("code", String(100), primary_key=True),
    Column("name_vi", String(200), nullable=False),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    Column("successors", ARRAY(String(100)), nullable=False, server_default="{}"),
)

cases = Table(
    "cases",
    metadata,
    Column("case_id", UUID(as_uuid=True), primary_key=True),
    Column("code", String(32), nullable=False),
    Column("unit", String(100), nullable=False),
    Column("category", String(64), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("protection_level", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("required_fields", ARRAY(String(20)), nullable=False, server_default="{}"),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    # When the reporter learned of the case: the 12-hour emergency clock starts here (Decree 56).
    Column("learned_at", DateTime(timezone=True), nullable=True),
    Column("proposal", Text, nullable=True),  # encrypted (shared.crypto), like outcome, opinions.text, answer_text
    Column("proposal_level", String(16), nullable=True),
    Column("proposal_referrals", ARRAY(String(40)), nullable=False, server_default="{}"),
    Column("forwarded_at", DateTime(timezone=True), nullable=True),
    Column("outcome", Text, nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("reopen_reason", Text, nullable=True),  # the chair's reason, when a closed case was reopened
    Column("reopened_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Recorded by the `case.reported` handler, assigned in batches by `assigner.assignment_worker`.
    Column("assign_pending", Boolean, nullable=False, server_default=text("false")),
    Column("reported_event_id", UUID(as_uuid=True), nullable=True),  # causation of `case.assigned`
    Column("correlation_id", UUID(as_uuid=True), nullable=True),
    Index("ix_cases_assign_pending", "reported_at", postgresql_where=text("assign_pending")),
    # The pool's loads, driven by the cases not closed (migration 0010).
    Index("ix_cases_live", "case_id", postgresql_where=text("status <> 'closed'")),
)

counseling_requests = Table(
    "counseling_requests",
    metadata,
    Column("request_id", UUID(as_uuid=True), primary_key=True),
    Column("code", String(32), nullable=False),
    Column("topic", String(64), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("status", String(16), nullable=False),  # received | assigned | accepted | answered
    Column("required_fields", ARRAY(String(20)), nullable=False, server_default="{}"),
    # The requester's Zalo id sealed for notify by intake (`shared.sealed`): routing hands it on unread.
    Column("reply_to", Text, nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("answer_text", Text, nullable=True),
    Column("answered_by", UUID(as_uuid=True), nullable=True),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    # The pool's loads, driven by the requests not answered (migration 0010).
    Index("ix_counseling_requests_live", "request_id", postgresql_where=text("status <> 'answered'")),
)

assignments = Table(
    "assignments",
    metadata,
    Column("assignment_id", UUID(as_uuid=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), nullable=True, index=True),
    Column("request_id", UUID(as_uuid=True), nullable=True, index=True),
    Column("member_id", UUID(as_uuid=True), ForeignKey("routing.members.member_id"), nullable=False, index=True),
    Column("field", String(20), nullable=True),  # None: the chair or a vice-chair on a critical case
    Column("status", String(12), nullable=False),  # pending | accepted | declined | removed
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    Column("respond_by", DateTime(timezone=True), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    Column("ended_reason", String(16), nullable=True),  # declined | chair | leave
    CheckConstraint("(case_id IS NULL) <> (request_id IS NULL)", name="one_subject"),
    # Each member's latest assignment with a field, read by the pool (migration 0002). The open assignments'
    # partial indexes of migrations 0002 and 0010 went with 0014: since 0013 nothing reads them.
    Index("ix_assignments_last_with_field", "member_id", "assigned_at", postgresql_where=text("field IS NOT NULL")),
)

opinions = Table(
    "opinions",
    metadata,
    Column("opinion_id", UUID(as_uuid=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), ForeignKey("routing.cases.case_id"), nullable=False, index=True),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("text", Text, nullable=False),
    Column("recommended_level", String(16), nullable=True),
    Column("referrals", ARRAY(String(40)), nullable=False, server_default="{}"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Referrals (Decree 56 Art. 26–28): the club connects a case to the body whose duty it is; a referral to the
# commune People's Committee, its child-protection officer, the police or hotline 111 meets the 12-hour deadline.
referrals = Table(
    "referrals",
    metadata,
    Column("referral_id", UUID(as_uuid=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), ForeignKey("routing.cases.case_id"), nullable=False, index=True),
    Column("target", String(40), nullable=False),
    Column("target_name", Text, nullable=True),  # e.g. "UBND xã Long Thuận"
    Column("referred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", UUID(as_uuid=True), nullable=True),  # member or account
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("acknowledged_at", DateTime(timezone=True), nullable=True),
    Column("acknowledged_by", Text, nullable=True),  # who at that body took it up
)

# The Standing Committee's decisions on forwarded cases (several when a case was returned and forwarded
# again); the text may name the child, so it stays here and never travels in an event.
decisions = Table(
    "decisions",
    metadata,
    Column("decision_id", UUID(as_uuid=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), ForeignKey("routing.cases.case_id"), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),  # approved | amended | returned
    Column("text", Text, nullable=False),
    Column("forwarded_at", DateTime(timezone=True), nullable=False),  # the forwarding it answers
    Column("decided_by", UUID(as_uuid=True), nullable=False),  # the committee account
    Column("decided_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("case_id", "forwarded_at", name="uq_decisions_case_id_forwarded_at"),
)

# Tasks the provincial Standing Committee assigns to the club (nhiệm vụ do Ban Thường vụ giao): routed like a
# case to members by field, with no child data (a title, details, fields, an optional unit, a deadline).
tasks = Table(
    "tasks",
    metadata,
    Column("task_id", UUID(as_uuid=True), primary_key=True),
    Column("code", String(20), nullable=False, unique=True),  # NV-2026-001
    Column("title_vi", Text, nullable=False),
    Column("details_vi", Text, nullable=False, server_default=""),
    Column("fields", ARRAY(String(20)), nullable=False),
    Column("unit", String(100), nullable=True),
    Column("due_on", Date, nullable=False),
    Column("status", String(12), nullable=False),  # assigned | done
    Column("created_by", UUID(as_uuid=True), nullable=False),  # the committee member's account
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
)

task_assignments = Table(
    "task_assignments",
    metadata,
    Column("task_id", UUID(as_uuid=True), ForeignKey("routing.tasks.task_id"), primary_key=True),
    Column("field", String(20), primary_key=True),
    Column("member_id", UUID(as_uuid=True), ForeignKey("routing.members.member_id"), nullable=False, index=True),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=True),
    Column("report_vi", Text, nullable=True),
)

timers = Table(
    "timers",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), nullable=True, index=True),
    Column("request_id", UUID(as_uuid=True), nullable=True, index=True),
    Column("assignment_id", UUID(as_uuid=True), nullable=True),
    # Set for `leave_start` timers: the member whose leave begins (their open assignments are handed over).
    Column("member_id", UUID(as_uuid=True), nullable=True),
    Column("deadline", String(32), nullable=False),  # acceptance | ... | answer | leave_start
    Column("stage", String(12), nullable=False),  # reminder | chair | committee
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("fire_at", DateTime(timezone=True), nullable=False),
    # The later stages' times of the row's ladder (`deadlines.ladder`): a row is written for the next stage when
    # this one fires (`timers.fire_due`; routing migration 0012). NULL: no later stage (or planned before 0012).
    Column("chair_at", DateTime(timezone=True), nullable=True),
    Column("committee_at", DateTime(timezone=True), nullable=True),
    Column("fired_at", DateTime(timezone=True), nullable=True),
    Column("outcome", String(12), nullable=True),  # emitted | moot
    Index("ix_timers_pending", "fire_at", postgresql_where=text("fired_at IS NULL")),
)

used_links = Table(
    "used_links",
    metadata,
    Column("signature", String(64), primary_key=True),
    Column("used_at", DateTime(timezone=True), nullable=False),
)
