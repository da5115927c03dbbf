"""council_requests and council_follow_ups: support to the provincial Children's Council

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 22:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "council_requests",
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("subject_vi", sa.Text(), nullable=False),
        sa.Column("advice_vi", sa.Text(), nullable=True),
        sa.Column("advised_on", sa.Date(), nullable=True),
        sa.Column("advised_by", sa.String(length=300), nullable=True),
        sa.Column("recorded_by", sa.UUID(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_council_requests")),
        schema="reporting",
    )
    op.create_index(op.f("ix_council_requests_received_on"), "council_requests", ["received_on"], schema="reporting")
    op.create_table(
        "council_follow_ups",
        sa.Column("follow_up_id", sa.UUID(), nullable=False),
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("note_vi", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.UUID(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["reporting.council_requests.request_id"],
            name=op.f("fk_council_follow_ups_request_id_council_requests"),
        ),
        sa.PrimaryKeyConstraint("follow_up_id", name=op.f("pk_council_follow_ups")),
        schema="reporting",
    )
    op.create_index("ix_council_follow_ups_request_id", "council_follow_ups", ["request_id"], schema="reporting")


def downgrade() -> None:
    op.drop_index("ix_council_follow_ups_request_id", table_name="council_follow_ups", schema="reporting")
    op.drop_table("council_follow_ups", schema="reporting")
    op.drop_index(op.f("ix_council_requests_received_on"), table_name="council_requests", schema="reporting")
    op.drop_table("council_requests", schema="reporting")
