"""Free text that can identify a child is encrypted like the child fields: case summary and urgency reason,
monthly-report notes, the club's counseling answer (data migration: older plain values are encrypted with
CHILD_DATA_KEYS, bound to their row and column); published outbox rows of events that carried content dropped

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:40:00
"""

from collections.abc import Sequence

from alembic import op

from services.intake.cases import child_context, counseling_answer_context, report_notes_context
from services.intake.settings import IntakeSettings
from shared.migrations import encrypt_plain_text

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    settings = IntakeSettings()
    for field in ("summary", "urgency_reason"):
        encrypt_plain_text(settings, "intake", "cases", "id", field, lambda key, f=field: child_context(key, f))
    encrypt_plain_text(settings, "intake", "monthly_reports", "id", "notes", report_notes_context)
    encrypt_plain_text(settings, "intake", "counseling_requests", "id", "answer_text", counseling_answer_context)
    # Published outbox rows of events whose version 1 carried a Zalo id or a bearer link in clear: only kept
    # for the retention period, so dropped now (unpublished ones still go out and are upgraded on arrival).
    op.execute(
        "DELETE FROM intake.outbox WHERE published_at IS NOT NULL AND type IN "
        "('zalo.user_activity', 'account.link_issued', 'counseling_request.received')"
    )


def downgrade() -> None:
    """Nothing: the values stay encrypted (decrypting them back into the table is not offered)."""
