"""deliveries.correlation_id: the correlation of the event a delivery answers, so its notification.* events
keep the causation chain (case.reported → … → notification.sent)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("correlation_id", UUID(as_uuid=True), nullable=True), schema="notify")


def downgrade() -> None:
    op.drop_column("deliveries", "correlation_id", schema="notify")
