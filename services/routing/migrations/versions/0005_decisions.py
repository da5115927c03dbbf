"""decisions: the Standing Committee's decision on each forwarding of a case

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 22:40:00
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
        "decisions",
        sa.Column("decision_id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.UUID(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["routing.cases.case_id"], name=op.f("fk_decisions_case_id_cases")),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_decisions")),
        sa.UniqueConstraint("case_id", "forwarded_at", name="uq_decisions_case_id_forwarded_at"),
        schema="routing",
    )
    op.create_index(op.f("ix_decisions_case_id"), "decisions", ["case_id"], schema="routing")


def downgrade() -> None:
    op.drop_index(op.f("ix_decisions_case_id"), table_name="decisions", schema="routing")
    op.drop_table("decisions", schema="routing")
