"""assignment load indexes, batched assignment, leave start timers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 10:00:00

The candidate query reads, per member, the open assignments that hold a field (their load) and the
latest assignment with a field (least recently assigned); these partial indexes keep both lookups to
a few index entries per member however many closed assignments accumulate.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_assignments_open_load",
        "assignments",
        ["member_id"],
        schema="routing",
        postgresql_where=sa.text("status IN ('pending', 'accepted') AND field IS NOT NULL"),
        postgresql_include=["case_id", "request_id"],
    )
    op.create_index(
        "ix_assignments_last_with_field",
        "assignments",
        ["member_id", "assigned_at"],
        schema="routing",
        postgresql_where=sa.text("field IS NOT NULL"),
    )
    op.add_column("timers", sa.Column("member_id", sa.UUID(), nullable=True), schema="routing")
    op.add_column(
        "cases",
        sa.Column("assign_pending", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        schema="routing",
    )
    op.add_column("cases", sa.Column("reported_event_id", sa.UUID(), nullable=True), schema="routing")
    op.add_column("cases", sa.Column("correlation_id", sa.UUID(), nullable=True), schema="routing")
    op.create_index(
        "ix_cases_assign_pending",
        "cases",
        ["reported_at"],
        schema="routing",
        postgresql_where=sa.text("assign_pending"),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_assign_pending", table_name="cases", schema="routing")
    for column in ("correlation_id", "reported_event_id", "assign_pending"):
        op.drop_column("cases", column, schema="routing")
    op.drop_column("timers", "member_id", schema="routing")
    op.drop_index("ix_assignments_last_with_field", table_name="assignments", schema="routing")
    op.drop_index("ix_assignments_open_load", table_name="assignments", schema="routing")
