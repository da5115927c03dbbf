"""NOTIFY notify_deliveries only when a statement inserted pending deliveries: rows inserted already claimed by
the process that planned them (`services/notify/handover.py`) are nobody else's work, and the NOTIFY woke every
dispatcher, that process's own included, into a claim that found nothing

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 19:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """CREATE OR REPLACE FUNCTION notify.deliveries_notify() RETURNS trigger AS $$
            BEGIN
              IF EXISTS (SELECT 1 FROM inserted WHERE status = 'pending') THEN
                PERFORM pg_notify('notify_deliveries', '');
              END IF;
              RETURN NULL;
            END $$ LANGUAGE plpgsql"""
    )
    op.execute("DROP TRIGGER IF EXISTS deliveries_notify ON notify.deliveries")
    op.execute(
        """CREATE TRIGGER deliveries_notify AFTER INSERT ON notify.deliveries REFERENCING NEW TABLE AS inserted
            FOR EACH STATEMENT EXECUTE FUNCTION notify.deliveries_notify()"""
    )


def downgrade() -> None:
    op.execute(
        """CREATE OR REPLACE FUNCTION notify.deliveries_notify() RETURNS trigger AS $$
            BEGIN PERFORM pg_notify('notify_deliveries', ''); RETURN NULL; END $$ LANGUAGE plpgsql"""
    )
    op.execute("DROP TRIGGER IF EXISTS deliveries_notify ON notify.deliveries")
    op.execute(
        """CREATE TRIGGER deliveries_notify AFTER INSERT ON notify.deliveries
            FOR EACH STATEMENT EXECUTE FUNCTION notify.deliveries_notify()"""
    )
