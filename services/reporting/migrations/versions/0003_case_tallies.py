"""case tallies (age bands: minors of 16–17 apart; cases below their category's urgency floor)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:30:00

Existing cases are tallied from the `cases` table, so the figures are right without a rebuild.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_tallies",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("unit", sa.String(length=100), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=20), nullable=False),
        sa.Column("cases", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("period", "unit", "dimension", "value", name=op.f("pk_case_tallies")),
        schema="reporting",
    )
    op.add_column(
        "cases",
        sa.Column("below_suggested_urgency", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        schema="reporting",
    )
    op.execute(
        "INSERT INTO reporting.case_tallies (period, unit, dimension, value, cases) "
        "SELECT period, unit, 'age_band', coalesce(age_band, 'unknown'), count(*) FROM reporting.cases "
        "GROUP BY period, unit, coalesce(age_band, 'unknown')"
    )


def downgrade() -> None:
    op.drop_column("cases", "below_suggested_urgency", schema="reporting")
    op.drop_table("case_tallies", schema="reporting")
