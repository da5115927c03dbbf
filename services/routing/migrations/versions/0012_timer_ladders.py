"""timers.chair_at, committee_at: one row per deadline ladder, the later stages' rows written as they come due

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 13:30:00

A deadline's ladder (reminder, then the chair's escalation, then the committee's) was three rows written up
front: twelve rows per case at the assigner (three per assignment and per Decree 56 clock). It is now one row,
the reminder, carrying the later stages' times; when a stage fires, the next stage's row is written in the
same transaction, unless nothing can make that stage emit (an acceptance whose assignment was answered or
handed over: the later stages would be `moot`). Rows planned before this migration keep their three rows
(both columns NULL: nothing is spawned for them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for stage in ("chair", "committee"):
        op.add_column("timers", sa.Column(f"{stage}_at", sa.DateTime(timezone=True), nullable=True), schema="routing")


def downgrade() -> None:
    # The later stages not yet written become rows again, so the older code fires them (a stage that would have
    # been `moot` fires as `moot`). Every row of a ladder carries the same times, hence DISTINCT.
    op.execute(
        """INSERT INTO routing.timers (case_id, request_id, assignment_id, member_id, deadline, stage, due_at, fire_at)
            SELECT DISTINCT t.case_id, t.request_id, t.assignment_id, t.member_id, t.deadline, s.stage, t.due_at,
                s.fire_at
            FROM routing.timers AS t
            CROSS JOIN LATERAL (VALUES ('chair', t.chair_at), ('committee', t.committee_at)) AS s(stage, fire_at)
            WHERE s.fire_at IS NOT NULL AND NOT EXISTS (
                SELECT FROM routing.timers AS o WHERE o.deadline = t.deadline AND o.stage = s.stage
                    AND o.case_id IS NOT DISTINCT FROM t.case_id AND o.request_id IS NOT DISTINCT FROM t.request_id
                    AND o.assignment_id IS NOT DISTINCT FROM t.assignment_id)"""
    )
    for stage in ("committee", "chair"):
        op.drop_column("timers", f"{stage}_at", schema="routing")
