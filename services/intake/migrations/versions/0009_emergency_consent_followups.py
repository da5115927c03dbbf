"""The emergency basis: its written reason (cases.emergency_reason, encrypted) and the follow-ups to obtain
consent later (consent_followups; one per case already recorded on that basis)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("emergency_reason", sa.Text(), nullable=True), schema="intake")
    op.create_table(
        "consent_followups",
        sa.Column("case_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", postgresql.UUID(as_uuid=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["intake.cases.id"], name=op.f("fk_consent_followups_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_consent_followups")),
        schema="intake",
    )
    op.create_index(
        "ix_consent_followups_open",
        "consent_followups",
        ["opened_at"],
        unique=False,
        schema="intake",
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    # Cases already on the emergency basis get their follow-up (consent still to be obtained unless recorded).
    op.execute(
        "INSERT INTO intake.consent_followups (case_id, opened_at) SELECT id, reported_at FROM intake.cases "
        "WHERE legal_basis = 'emergency_protection_of_life_or_health' "
        "AND child_consent IS NULL AND guardian_consent IS NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_consent_followups_open", table_name="consent_followups", schema="intake")
    op.drop_table("consent_followups", schema="intake")
    op.drop_column("cases", "emergency_reason", schema="intake")
