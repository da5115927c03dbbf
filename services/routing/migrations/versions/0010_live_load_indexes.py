"""live cases and requests and their open assignments, indexed for the pool's loads

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:00:00

The candidate pool counts each member's open cases and requests in one GROUP BY driven by the cases not
closed and requests not answered, joined to their open assignments with a field. These partial indexes
hold only that live work, so the count no longer grows with history: an accepted assignment stays
`accepted` after its case is closed, and the old count looked at every one of them for every member.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_WITH_FIELD = "status IN ('pending', 'accepted') AND field IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_cases_live", "cases", ["case_id"], schema="routing", postgresql_where=sa.text("status <> 'closed'")
    )
    op.create_index(
        "ix_counseling_requests_live",
        "counseling_requests",
        ["request_id"],
        schema="routing",
        postgresql_where=sa.text("status <> 'answered'"),
    )
    for subject in ("case_id", "request_id"):
        op.create_index(
            f"ix_assignments_open_by_{subject.removesuffix('_id')}",
            "assignments",
            [subject],
            schema="routing",
            postgresql_where=sa.text(OPEN_WITH_FIELD),
            postgresql_include=["member_id"],
        )


def downgrade() -> None:
    for subject in ("request", "case"):
        op.drop_index(f"ix_assignments_open_by_{subject}", table_name="assignments", schema="routing")
    op.drop_index("ix_counseling_requests_live", table_name="counseling_requests", schema="routing")
    op.drop_index("ix_cases_live", table_name="cases", schema="routing")
