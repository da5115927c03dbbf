"""Per-case data keys (crypto-shredding) and consent withdrawals; the summary may be erased (nullable); the
audit log keeps the reading request's address (breach export)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_keys",
        sa.Column("case_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("wrapped", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("destroyed_why", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_keys")),
        schema="intake",
    )
    op.create_table(
        "consent_withdrawals",
        sa.Column("case_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["intake.cases.id"], name=op.f("fk_consent_withdrawals_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_consent_withdrawals")),
        schema="intake",
    )
    op.alter_column("cases", "summary", nullable=True, schema="intake")
    # Breach response: from where each read came (the client address of the reading request).
    op.add_column("audit_log", sa.Column("address", sa.String(length=64), nullable=True), schema="intake")


def downgrade() -> None:
    op.drop_column("audit_log", "address", schema="intake")
    op.drop_table("consent_withdrawals", schema="intake")
    op.drop_table("case_keys", schema="intake")
