"""case totals and stage timings by quarter as well (a quarter's report reads one key instead of three
months')

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 13:10:00

Filled from the month rows already kept, so the reports are right without a rebuild.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A month key's quarter ("2026-08" → "2026-Q3"), as services.reporting.domain.kept_keys (kept here as it is today).
QUARTER = "left(period, 5) || 'Q' || ((substr(period, 6, 2)::int + 2) / 3)"
MONTH = "period ~ '^[0-9]{4}-[0-9]{2}$'"


def upgrade() -> None:
    # `report_first` is kept by month only. In key order, so that a quarter's rows lie together.
    op.execute(
        f"""
        INSERT INTO reporting.case_totals (period, dimension, unit, value, cases)
        SELECT {QUARTER}, dimension, unit, value, sum(cases) FROM reporting.case_totals
        WHERE {MONTH} AND dimension <> 'report_first'
        GROUP BY {QUARTER}, dimension, unit, value ORDER BY 1, 2, 3, 4
        """
    )
    op.execute(
        f"""
        INSERT INTO reporting.stage_timings (period, stage, urgency, cases, seconds, max_seconds)
        SELECT {QUARTER}, stage, urgency, sum(cases), sum(seconds), max(max_seconds) FROM reporting.stage_timings
        WHERE {MONTH}
        GROUP BY {QUARTER}, stage, urgency ORDER BY 1, 2, 3
        """
    )


def downgrade() -> None:
    op.execute("DELETE FROM reporting.case_totals WHERE period LIKE '____-Q_'")
    op.execute("DELETE FROM reporting.stage_timings WHERE period LIKE '____-Q_'")
