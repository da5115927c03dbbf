"""closed cases and answered requests, indexed for the pool's loads

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:00:00

The candidate pool counts each member's open assignments in one GROUP BY, leaving out those whose case
is closed or counseling request answered; these partial indexes answer that with one probe into the
closed (answered) rows only, instead of a lookup into every case (request) per open assignment.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_closed", "cases", ["case_id"], schema="routing", postgresql_where=sa.text("status = 'closed'")
    )
    op.create_index(
        "ix_counseling_requests_answered",
        "counseling_requests",
        ["request_id"],
        schema="routing",
        postgresql_where=sa.text("status = 'answered'"),
    )


def downgrade() -> None:
    op.drop_index("ix_counseling_requests_answered", table_name="counseling_requests", schema="routing")
    op.drop_index("ix_cases_closed", table_name="cases", schema="routing")
