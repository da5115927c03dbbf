"""Free text about a child encrypted (opinions, proposal, outcome, counseling answer), and the audit log of
its reads (data migration: older plain values are encrypted with CHILD_DATA_KEYS)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 22:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from services.routing.freetext import answer_context, opinion_context, outcome_context, proposal_context
from services.routing.settings import RoutingSettings
from shared.migrations import encrypt_plain_text
from shared.sealed import Sealer, reply_to_context

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("case_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("fields", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        schema="routing",
    )
    op.create_index(op.f("ix_audit_log_case_id"), "audit_log", ["case_id"], unique=False, schema="routing")
    op.execute(
        """CREATE OR REPLACE FUNCTION routing.audit_log_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'routing.audit_log is append-only'; END $$ LANGUAGE plpgsql"""
    )
    op.execute(
        """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON routing.audit_log
        FOR EACH ROW EXECUTE FUNCTION routing.audit_log_append_only()"""
    )
    # The requester's Zalo id: sealed for notify from now on (`counseling_request.received` version 2).
    op.alter_column(
        "counseling_requests", "reply_zalo_user_id", new_column_name="reply_to", type_=sa.Text(), schema="routing"
    )
    settings = RoutingSettings()
    sealer = Sealer.from_settings(settings)
    bind = op.get_bind()
    for request_id, plain in bind.execute(
        sa.text("SELECT request_id, reply_to FROM routing.counseling_requests WHERE reply_to NOT LIKE 's1:%'")
    ).all():
        bind.execute(
            sa.text("UPDATE routing.counseling_requests SET reply_to = :v WHERE request_id = :r"),
            {"v": sealer.seal("notify", plain, reply_to_context(request_id)), "r": request_id},
        )
    encrypt_plain_text(settings, "routing", "cases", "case_id", "proposal", proposal_context)
    encrypt_plain_text(settings, "routing", "cases", "case_id", "outcome", outcome_context)
    encrypt_plain_text(settings, "routing", "opinions", "opinion_id", "text", opinion_context)
    encrypt_plain_text(settings, "routing", "counseling_requests", "request_id", "answer_text", answer_context)
    # Published outbox rows of events whose version 1 carried links, answers or outcomes in clear.
    op.execute(
        "DELETE FROM routing.outbox WHERE published_at IS NOT NULL AND type IN ('case.assigned', "
        "'case.members_changed', 'counseling_request.assigned', 'counseling_request.answered', 'case.status_changed')"
    )


def downgrade() -> None:
    """The audit log goes; values stay encrypted (the sealed Zalo ids too)."""
    op.alter_column("counseling_requests", "reply_to", new_column_name="reply_zalo_user_id", schema="routing")
    op.execute("DROP TABLE routing.audit_log")
    op.execute("DROP FUNCTION routing.audit_log_append_only()")
