"""cases.learned_at: the 12-hour emergency clock starts when the reporter learned of the case

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("learned_at", sa.DateTime(timezone=True), nullable=True), schema="routing")


def downgrade() -> None:
    op.drop_column("cases", "learned_at", schema="routing")
