"""case totals and stage timings by month and by year (the figures a report prints, summed over units,
and the units' monthly reports)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 01:50:00

Filled from the existing counters, so the reports are right without a rebuild.
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
        "case_totals",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("cases", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("period", "dimension", "unit", "value", name=op.f("pk_case_totals")),
        schema="reporting",
    )
    op.create_table(
        "stage_timings",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("cases", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("max_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("period", "stage", "urgency", name=op.f("pk_stage_timings")),
        schema="reporting",
    )
    # The same statements as services.reporting.aggregates (kept here as they are today).
    op.execute(
        """
        INSERT INTO reporting.case_totals (period, dimension, unit, value, cases)
        SELECT k.period, dimension, unit, value, sum(cases) FROM (
            SELECT period, 'unit' AS dimension, '' AS unit, unit AS value, cases FROM reporting.case_counts
            UNION ALL SELECT period, 'category', '', category, cases FROM reporting.case_counts
            UNION ALL SELECT period, 'urgency', '', urgency, cases FROM reporting.case_counts
            UNION ALL SELECT period, 'status', '', status, cases FROM reporting.case_counts
            UNION ALL SELECT period, 'group', unit, grp, cases FROM reporting.case_group_counts
            UNION ALL SELECT period, dimension, '', value, cases FROM reporting.case_tallies
        ) AS t, LATERAL (VALUES (t.period), (left(t.period, 4))) AS k(period)
        GROUP BY k.period, dimension, unit, value
        """
    )
    op.execute(
        """
        INSERT INTO reporting.stage_timings (period, stage, urgency, cases, seconds, max_seconds)
        SELECT k.period, stage, urgency, sum(cases), sum(seconds), max(max_seconds) FROM reporting.case_timings AS t,
        LATERAL (VALUES (t.period), (left(t.period, 4))) AS k(period)
        GROUP BY k.period, stage, urgency
        """
    )

    op.execute(
        """
        INSERT INTO reporting.case_totals (period, dimension, unit, value, cases)
        SELECT k.period, 'report', unit, name, sum(n) FROM (
            SELECT period, unit, name, n FROM (
                SELECT DISTINCT ON (unit, period) * FROM reporting.monthly_reports
                ORDER BY unit, period, revision DESC
            ) AS latest, LATERAL (
                SELECT 'reports' AS name, 1::bigint AS n
                UNION ALL SELECT 'activities_held', activities_held
                UNION ALL SELECT 'cases:' || key, value::bigint FROM jsonb_each_text(cases_by_category)
                UNION ALL SELECT 'special:' || key, value::bigint FROM jsonb_each_text(special_circumstances_known)
            ) AS sums
        ) AS t, LATERAL (VALUES (t.period), (left(t.period, 4))) AS k(period)
        GROUP BY k.period, unit, name
        """
    )
    op.execute(
        """
        INSERT INTO reporting.case_totals (period, dimension, unit, value, cases)
        SELECT DISTINCT ON (unit, period) period, 'report_first', unit,
               CASE WHEN on_time <> 0 THEN 'on_time' ELSE 'late' END, 1
        FROM reporting.monthly_reports ORDER BY unit, period, revision
        """
    )


def downgrade() -> None:
    op.drop_table("stage_timings", schema="reporting")
    op.drop_table("case_totals", schema="reporting")
