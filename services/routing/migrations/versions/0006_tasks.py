"""tasks and task_assignments: what the provincial Standing Committee assigns to the club, routed by field

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("task_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("title_vi", sa.Text(), nullable=False),
        sa.Column("details_vi", sa.Text(), server_default="", nullable=False),
        sa.Column("fields", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("unit", sa.String(length=100), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("code", name=op.f("uq_tasks_code")),
        schema="routing",
    )
    op.create_table(
        "task_assignments",
        sa.Column("task_id", sa.UUID(), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report_vi", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["routing.members.member_id"], name=op.f("fk_task_assignments_member_id_members")
        ),
        sa.ForeignKeyConstraint(["task_id"], ["routing.tasks.task_id"], name=op.f("fk_task_assignments_task_id_tasks")),
        sa.PrimaryKeyConstraint("task_id", "field", name=op.f("pk_task_assignments")),
        schema="routing",
    )
    op.create_index(
        op.f("ix_task_assignments_member_id"), "task_assignments", ["member_id"], unique=False, schema="routing"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_task_assignments_member_id"), table_name="task_assignments", schema="routing")
    op.drop_table("task_assignments", schema="routing")
    op.drop_table("tasks", schema="routing")
