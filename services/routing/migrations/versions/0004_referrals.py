"""referrals: to whom a case was referred, when, by whom, and the acknowledgement received

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("referral_id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("target_name", sa.Text(), nullable=True),
        sa.Column("referred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.UUID(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["routing.cases.case_id"], name=op.f("fk_referrals_case_id_cases")),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_referrals")),
        schema="routing",
    )
    op.create_index(op.f("ix_referrals_case_id"), "referrals", ["case_id"], schema="routing")


def downgrade() -> None:
    op.drop_index(op.f("ix_referrals_case_id"), table_name="referrals", schema="routing")
    op.drop_table("referrals", schema="routing")
