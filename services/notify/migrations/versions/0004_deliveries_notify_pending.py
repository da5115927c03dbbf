"""NOTIFY notify_deliveries only when a `pending` delivery is inserted: rows the consumer inserts leased
to its own dispatcher (`sending`, handed over in process) must not wake every replica into an empty claim

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A row trigger whose WHEN is checked without calling the function: a leased row costs nothing, and the
    # notifications of one transaction (same channel, same payload) are folded into one by PostgreSQL.
    op.execute("DROP TRIGGER IF EXISTS deliveries_notify ON notify.deliveries")
    op.execute(
        """CREATE TRIGGER deliveries_notify AFTER INSERT ON notify.deliveries
            FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION notify.deliveries_notify()"""
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS deliveries_notify ON notify.deliveries")
    op.execute(
        """CREATE TRIGGER deliveries_notify AFTER INSERT ON notify.deliveries
            FOR EACH STATEMENT EXECUTE FUNCTION notify.deliveries_notify()"""
    )
