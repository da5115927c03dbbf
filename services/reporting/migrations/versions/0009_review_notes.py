"""review_notes: the club's assessment, lessons and recommendations, printed in the reviews

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_notes",
        sa.Column("note_id", sa.UUID(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=20), nullable=False),
        sa.Column("text_vi", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.UUID(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("note_id", name=op.f("pk_review_notes")),
        schema="reporting",
    )
    op.create_index(op.f("ix_review_notes_year"), "review_notes", ["year"], schema="reporting")


def downgrade() -> None:
    op.drop_index(op.f("ix_review_notes_year"), table_name="review_notes", schema="reporting")
    op.drop_table("review_notes", schema="reporting")
