"""drop the assignment indexes the pool no longer reads

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 00:40:00

Migrations 0002 and 0010 indexed the open assignments with a field (by member, by case, by request) for the
pool's count of each member's load. Since 0013 the load is kept with the member (`members.open_load`) and no
statement reads these partial indexes: their predicate (`status IN ('pending', 'accepted') AND field IS NOT
NULL`) is implied by no query, so the planner cannot use them. Each was still written with every assignment
(three index entries of three per case) and every status change of one. The lookups that stay: by case, by
request and by member (`ix_assignments_case_id`, `…_request_id`, `…_member_id`), and each member's latest
assignment with a field (`ix_assignments_last_with_field`, read by the pool).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_WITH_FIELD = "status IN ('pending', 'accepted') AND field IS NOT NULL"
UNREAD = {
    "ix_assignments_open_load": ("member_id", ["case_id", "request_id"]),
    "ix_assignments_open_by_case": ("case_id", ["member_id"]),
    "ix_assignments_open_by_request": ("request_id", ["member_id"]),
}


def upgrade() -> None:
    for name in UNREAD:
        op.drop_index(name, table_name="assignments", schema="routing")


def downgrade() -> None:
    for name, (column, include) in UNREAD.items():
        op.create_index(
            name,
            "assignments",
            [column],
            schema="routing",
            postgresql_where=sa.text(OPEN_WITH_FIELD),
            postgresql_include=include,
        )
