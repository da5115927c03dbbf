"""cases.reopen_reason, reopened_at: why and when the chair last reopened a closed case

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("reopen_reason", sa.Text(), nullable=True), schema="routing")
    op.add_column("cases", sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True), schema="routing")


def downgrade() -> None:
    op.drop_column("cases", "reopened_at", schema="routing")
    op.drop_column("cases", "reopen_reason", schema="routing")
