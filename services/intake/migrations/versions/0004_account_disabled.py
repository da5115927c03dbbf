"""accounts can be disabled

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 16:10:00

`accounts.disabled_at`: a disabled account cannot sign in, get a link or a credential; disabling revokes its
credentials (sessions and tokens) and invalidates its pending links. Enabling clears it (the person then needs
a new invitation or their old password; their sessions stay revoked).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True), schema="intake")


def downgrade() -> None:
    op.drop_column("accounts", "disabled_at", schema="intake")
