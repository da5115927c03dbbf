"""counseling_attempts: the counseling rate limit and global cap counted in the database (every replica)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counseling_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bucket", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counseling_attempts")),
        schema="intake",
    )
    op.create_index("ix_counseling_attempts_bucket", "counseling_attempts", ["bucket", "at"], schema="intake")
    op.create_index("ix_counseling_attempts_at", "counseling_attempts", ["at"], schema="intake")


def downgrade() -> None:
    op.drop_table("counseling_attempts", schema="intake")
