"""NOTIFY notify_deliveries when deliveries are inserted (wakes the dispatchers of every replica)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 09:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """CREATE OR REPLACE FUNCTION notify.deliveries_notify() RETURNS trigger AS $$
            BEGIN PERFORM pg_notify('notify_deliveries', ''); RETURN NULL; END $$ LANGUAGE plpgsql"""
    )
    op.execute("DROP TRIGGER IF EXISTS deliveries_notify ON notify.deliveries")
    op.execute(
        """CREATE TRIGGER deliveries_notify AFTER INSERT ON notify.deliveries
            FOR EACH STATEMENT EXECUTE FUNCTION notify.deliveries_notify()"""
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS deliveries_notify ON notify.deliveries")
    op.execute("DROP FUNCTION IF EXISTS notify.deliveries_notify()")
