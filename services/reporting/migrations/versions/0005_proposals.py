"""proposals: members' opinions and proposals to the Standing Committee, compiled quarterly

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "proposals",
        sa.Column("proposal_id", sa.UUID(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("topic_vi", sa.String(length=200), nullable=False),
        sa.Column("text_vi", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.String(length=300), nullable=False),
        sa.Column("recorded_by", sa.UUID(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_proposals")),
        schema="reporting",
    )
    op.create_index(op.f("ix_proposals_submitted_on"), "proposals", ["submitted_on"], schema="reporting")


def downgrade() -> None:
    op.drop_index(op.f("ix_proposals_submitted_on"), table_name="proposals", schema="reporting")
    op.drop_table("proposals", schema="reporting")
