"""Reporting's tables (schema `reporting`).

Three kinds of table:
- the event store (`events`): every consumed envelope, verbatim, in arrival order; figures are a pure
  function of it, so `python -m services.reporting rebuild` can recompute them from scratch;
- facts derived from events (`cases`, `counseling_requests`, `breaches`, `monthly_reports`, `units`,
  `unit_successors`, `categories`) and pre-aggregated counters kept in the same transaction
  (`case_counts`, `case_group_counts`, `case_tallies`, `case_timings`, `activity_counts`), so reports over
  five years read a few thousand counter rows however many cases there are;
- the club's own records (`plan_items`, `plan_activities`) and the scheduler's bookkeeping
  (`scheduler_jobs`, `reminders_sent`), which are not derived from events and survive a rebuild.
"""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.auth import credentials_table
from shared.db import service_metadata
from shared.outbox import inbox_table, outbox_table

metadata = service_metadata("reporting")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
credentials = credentials_table(metadata)

# --- event store -------------------------------------------------------------------------------------

events = Table(
    "events",
    metadata,
    Column("seq", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("type", String(100), nullable=False),
    # The case or counseling request the event is about: events that arrive before the case they
    # refer to are replayed from here when the case appears.
    Column("subject_id", UUID(as_uuid=True), nullable=True, index=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("envelope", Text, nullable=False),
)

# --- reference data ----------------------------------------------------------------------------------

units = Table(
    "units",
    metadata,
    Column("code", String(100), primary_key=True),
    Column("name_vi", String(200), nullable=False),
    Column("kind", String(50), nullable=False),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    Column("contact_email", String(320), nullable=True),
    Column("contact_zalo_user_id", String(64), nullable=True),
)

unit_successors = Table(
    "unit_successors",
    metadata,
    Column("old_unit", String(100), primary_key=True),
    Column("new_unit", String(100), primary_key=True),
)

categories = Table(
    "categories",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name_vi", String(200), nullable=False),
    Column("active", Integer, nullable=False, server_default=text("1")),
)

# --- facts -------------------------------------------------------------------------------------------

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
    Column("protection_level", String(16), nullable=True),
    Column("age_band", String(8), nullable=True),
    Column("below_suggested_urgency", Boolean, nullable=False, server_default=text("false")),
    Column("special_circumstances", ARRAY(String(8)), nullable=False, server_default=text("'{}'")),
    Column("status_at", DateTime(timezone=True), nullable=True),
    Column("assigned_at", DateTime(timezone=True), nullable=True),
    Column("accepted_at", DateTime(timezone=True), nullable=True),
    Column("forwarded_at", DateTime(timezone=True), nullable=True),
)

counseling_requests = Table(
    "counseling_requests",
    metadata,
    Column("request_id", UUID(as_uuid=True), primary_key=True),
    Column("code", String(32), nullable=False),
    Column("topic", String(100), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("period", String(7), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=True),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    Index("ix_counseling_requests_period_topic", "period", "topic", "channel"),
    Index("ix_counseling_requests_waiting", "received_at", postgresql_where=text("answered_at IS NULL")),
)

breaches = Table(
    "breaches",
    metadata,
    Column("subject_id", UUID(as_uuid=True), primary_key=True),
    Column("deadline", String(32), primary_key=True),
    Column("due_at", DateTime(timezone=True), primary_key=True),
    Column("subject", String(8), nullable=False),  # case | request
    Column("unit", String(100), nullable=True),
    Column("urgency", String(16), nullable=False),
    Column("period", String(7), nullable=False, index=True),  # month the deadline was due (VN time)
    Column("level", String(16), nullable=False),  # highest escalation level reached
    Column("escalations", Integer, nullable=False),
)

monthly_reports = Table(
    "monthly_reports",
    metadata,
    Column("unit", String(100), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("report_id", UUID(as_uuid=True), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("on_time", Integer, nullable=False),
    Column("cases_by_category", JSONB, nullable=False),
    Column("special_circumstances_known", JSONB, nullable=False),
    Column("activities_held", Integer, nullable=False),
    Index("ix_monthly_reports_period", "period"),
)

# --- pre-aggregated counters (maintained with the facts, in the same transaction) --------------------

case_counts = Table(
    "case_counts",
    metadata,
    Column("period", String(7), primary_key=True),
    Column("unit", String(100), primary_key=True),
    Column("category", String(64), primary_key=True),
    Column("urgency", String(16), primary_key=True),
    Column("status", String(32), primary_key=True),
    Column("cases", BigInteger, nullable=False),
)

case_group_counts = Table(
    "case_group_counts",
    metadata,
    Column("period", String(7), primary_key=True),
    Column("unit", String(100), primary_key=True),
    Column("grp", String(8), primary_key=True),
    Column("cases", BigInteger, nullable=False),
)

# Cases by tally: ("age_band", "16-17"), ("urgency_floor", "below") ... A child is under 16 and a minor of
# 16–17 is counted apart in every report; cases filed below their category's emergency floor are counted for
# the chair.
case_tallies = Table(
    "case_tallies",
    metadata,
    Column("period", String(7), primary_key=True),
    Column("unit", String(100), primary_key=True),
    Column("dimension", String(20), primary_key=True),
    Column("value", String(20), primary_key=True),
    Column("cases", BigInteger, nullable=False),
)

case_timings = Table(
    "case_timings",
    metadata,
    Column("period", String(7), primary_key=True),  # month the case was reported
    Column("unit", String(100), primary_key=True),
    Column("urgency", String(16), primary_key=True),
    Column("stage", String(16), primary_key=True),  # assigned | accepted | forwarded (from reported_at)
    Column("cases", BigInteger, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("max_seconds", Float, nullable=False),
)

# What a report prints, summed over units where the report does not show them, by month ("2026-07"), by
# quarter ("2026-Q3") and by year ("2026") in the same table (`domain.kept_keys`): a quarter, a year or five
# years read a few hundred rows of a dozen whole years, quarters and months instead of the month × unit ×
# category × urgency × state rows of `case_counts` (240,000 for five years at a million cases). `dimension`
# is one of the report's breakdowns: `unit`, `category`, `urgency`, `status` (unit ''), the `case_tallies`
# dimensions (unit ''), `group` (special circumstances, by unit), and the units' monthly reports: `report`
# (the latest revisions' sums by unit, value `reports`, `activities_held`, `cases:<category>`,
# `special:<group>`) and `report_first` (by month only: the first revision `on_time` or `late`, 1 on the row
# that holds).
# Kept by the projection with the counters it sums; read with `period = ANY(keys)` only (a month range
# would also take year and quarter rows).
case_totals = Table(
    "case_totals",
    metadata,
    Column("period", String(7), primary_key=True),
    Column("dimension", String(20), primary_key=True),
    Column("unit", String(100), primary_key=True),
    Column("value", String(100), primary_key=True),
    Column("cases", BigInteger, nullable=False),
)

# `case_timings` summed over units, by month, quarter and year (as `case_totals`).
stage_timings = Table(
    "stage_timings",
    metadata,
    Column("period", String(7), primary_key=True),
    Column("stage", String(16), primary_key=True),
    Column("urgency", String(16), primary_key=True),
    Column("cases", BigInteger, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("max_seconds", Float, nullable=False),
)

activity_counts = Table(
    "activity_counts",
    metadata,
    Column("period", String(7), primary_key=True),
    Column("metric", String(32), primary_key=True),  # notification | members_changed | counseling_answered
    Column("key", String(64), primary_key=True),
    Column("n", BigInteger, nullable=False),
)

# --- the club's own records ---------------------------------------------------------------------------

plan_items = Table(
    "plan_items",
    metadata,
    Column("item_id", String(64), primary_key=True),
    Column("year", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("title_vi", String(300), nullable=False),
    Column("due_on", Date, nullable=False),
)

plan_activities = Table(
    "plan_activities",
    metadata,
    Column("activity_id", UUID(as_uuid=True), primary_key=True),
    Column("held_on", Date, nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("title_vi", String(300), nullable=False),
    Column("participants", Integer, nullable=False),
    Column("minutes", Text, nullable=False),
    Column("plan_item_id", String(64), nullable=True),
    Column("recorded_by", UUID(as_uuid=True), nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("unit", String(100), nullable=True),  # the commune/ward of a local club (kind local_club)
)

# Members' opinions and proposals to the Standing Committee that are not about one case (kiến nghị, đề xuất),
# compiled quarterly into a document (services/reporting/compilation.py). Never child data.
proposals = Table(
    "proposals",
    metadata,
    Column("proposal_id", UUID(as_uuid=True), primary_key=True),
    Column("submitted_on", Date, nullable=False, index=True),
    Column("topic_vi", String(200), nullable=False),
    Column("text_vi", Text, nullable=False),
    Column("proposed_by", String(300), nullable=False),
    Column("recorded_by", UUID(as_uuid=True), nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# The club's money (plan II.3), in đồng (integers): income by source, spending by activity, each with its
# receipt's reference. Append-only: an entry is never changed or deleted (a database trigger refuses it);
# a correction is a new entry (`corrects`) carrying the signed difference, under the corrected entry's
# direction and category.
funding_entries = Table(
    "funding_entries",
    metadata,
    Column("entry_id", UUID(as_uuid=True), primary_key=True),
    Column("seq", BigInteger, Identity(always=True), nullable=False, unique=True),
    Column("entry_on", Date, nullable=False, index=True),
    Column("direction", String(8), nullable=False),  # income | expense
    Column("category", String(40), nullable=False),  # a source (income) or an activity (expense)
    Column("amount", BigInteger, nullable=False),  # đồng; > 0 for an entry, ≠ 0 for a correction
    Column("receipt_ref", String(100), nullable=False),  # số phiếu thu/chi, hóa đơn, chứng từ
    Column("description_vi", Text, nullable=False),
    Column("corrects", UUID(as_uuid=True), ForeignKey("reporting.funding_entries.entry_id"), nullable=True),
    Column("plan_activity_id", UUID(as_uuid=True), nullable=True),
    Column("recorded_by", UUID(as_uuid=True), nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("direction IN ('income', 'expense')", name="direction"),
    CheckConstraint("amount <> 0", name="amount_not_zero"),
)

# Support to the provincial Children's Council (Hội đồng trẻ em tỉnh, plan: "hỗ trợ và tư vấn cho Hội đồng
# trẻ em cấp tỉnh"): what the Council asked, the club's advice, and the club's follow-up.
council_requests = Table(
    "council_requests",
    metadata,
    Column("request_id", UUID(as_uuid=True), primary_key=True),
    Column("received_on", Date, nullable=False, index=True),
    Column("subject_vi", Text, nullable=False),  # what the Council asked
    Column("advice_vi", Text, nullable=True),
    Column("advised_on", Date, nullable=True),
    Column("advised_by", String(300), nullable=True),  # member(s) who advised
    Column("recorded_by", UUID(as_uuid=True), nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

council_follow_ups = Table(
    "council_follow_ups",
    metadata,
    Column("follow_up_id", UUID(as_uuid=True), primary_key=True),
    Column("request_id", UUID(as_uuid=True), ForeignKey("reporting.council_requests.request_id"), nullable=False),
    Column("on", Date, nullable=False),
    Column("note_vi", Text, nullable=False),
    Column("recorded_by", UUID(as_uuid=True), nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_council_follow_ups_request_id", "request_id"),
)

# What the club writes for its reviews (by year): strengths and limitations (đánh giá), lessons (bài học kinh
# nghiệm) and recommendations (kiến nghị, đề xuất) — printed in the annual, 3-year and 5-year reviews.
review_notes = Table(
    "review_notes",
    metadata,
    Column("note_id", UUID(as_uuid=True), primary_key=True),
    Column("year", Integer, nullable=False, index=True),
    Column("section", String(20), nullable=False),  # strength | limitation | lesson | recommendation
    Column("text_vi", Text, nullable=False),
    Column("recorded_by", UUID(as_uuid=True), nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

scheduler_jobs = Table(
    "scheduler_jobs",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("next_run_at", DateTime(timezone=True), nullable=False),
    Column("last_run_at", DateTime(timezone=True), nullable=True),
)

reminders_sent = Table(
    "reminders_sent",
    metadata,
    Column("kind", String(32), primary_key=True),  # monthly_report | plan
    Column("subject", String(100), primary_key=True),  # unit code or plan item id
    Column("period", String(16), primary_key=True),  # report period or due date
    Column("stage", String(16), primary_key=True),
    Column("sent_at", DateTime(timezone=True), nullable=False),
)

# Tables a rebuild empties and recomputes from the event store.
DERIVED = (
    units,
    unit_successors,
    categories,
    cases,
    counseling_requests,
    breaches,
    monthly_reports,
    case_counts,
    case_group_counts,
    case_tallies,
    case_timings,
    activity_counts,
    case_totals,
    stage_timings,
)
