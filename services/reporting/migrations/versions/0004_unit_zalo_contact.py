"""units.contact_zalo_user_id: monthly reminders reach a unit's Youth Union on Zalo as well as by email

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("units", sa.Column("contact_zalo_user_id", sa.String(length=64), nullable=True), schema="reporting")


def downgrade() -> None:
    op.drop_column("units", "contact_zalo_user_id", schema="reporting")
