"""funding_entries: the club's income by source and spending by activity (đồng), append-only

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 22:50:00

A trigger refuses UPDATE and DELETE: an entry is corrected by a new entry, never changed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "funding_entries",
        sa.Column("entry_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("entry_on", sa.Date(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("receipt_ref", sa.String(length=100), nullable=False),
        sa.Column("description_vi", sa.Text(), nullable=False),
        sa.Column("corrects", sa.UUID(), nullable=True),
        sa.Column("plan_activity_id", sa.UUID(), nullable=True),
        sa.Column("recorded_by", sa.UUID(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("direction IN ('income', 'expense')", name=op.f("ck_funding_entries_direction")),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_funding_entries_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["corrects"],
            ["reporting.funding_entries.entry_id"],
            name=op.f("fk_funding_entries_corrects_funding_entries"),
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_funding_entries")),
        sa.UniqueConstraint("seq", name=op.f("uq_funding_entries_seq")),
        schema="reporting",
    )
    op.create_index(op.f("ix_funding_entries_entry_on"), "funding_entries", ["entry_on"], schema="reporting")
    op.execute(
        """
        CREATE FUNCTION reporting.funding_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'funding entries are never changed or deleted: record a correction';
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER funding_entries_append_only BEFORE UPDATE OR DELETE ON reporting.funding_entries
            FOR EACH ROW EXECUTE FUNCTION reporting.funding_entries_append_only()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER funding_entries_append_only ON reporting.funding_entries")
    op.execute("DROP FUNCTION reporting.funding_entries_append_only()")
    op.drop_index(op.f("ix_funding_entries_entry_on"), table_name="funding_entries", schema="reporting")
    op.drop_table("funding_entries", schema="reporting")
