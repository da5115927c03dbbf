"""cases.suggested_urgency and cases.urgency_reason: an emergency category filed below its floor, and why

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("suggested_urgency", sa.String(length=16), nullable=True), schema="intake")
    op.add_column("cases", sa.Column("urgency_reason", sa.Text(), nullable=True), schema="intake")


def downgrade() -> None:
    op.drop_column("cases", "urgency_reason", schema="intake")
    op.drop_column("cases", "suggested_urgency", schema="intake")
