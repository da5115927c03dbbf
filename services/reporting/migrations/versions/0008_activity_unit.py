"""plan_activities.unit: the commune/ward of a local club (Câu lạc bộ cấp xã, phường) an activity concerns

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("plan_activities", sa.Column("unit", sa.String(length=100), nullable=True), schema="reporting")


def downgrade() -> None:
    op.drop_column("plan_activities", "unit", schema="reporting")
