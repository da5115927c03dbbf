"""units.contact_zalo_user_id: a unit's Youth Union reachable on Zalo as well as by email

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("units", sa.Column("contact_zalo_user_id", sa.String(length=64), nullable=True), schema="intake")


def downgrade() -> None:
    op.drop_column("units", "contact_zalo_user_id", schema="intake")
