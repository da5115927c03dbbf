"""Reporting's event store keeps references, not content: the text, Zalo ids and bearer links that version 1
of some events carried in clear are removed from the stored envelopes (the figures never used them)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:10:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# type → payload keys removed, and keys of nested assignments removed
TOP = {
    "counseling_request.answered": ("answer_text", "reply_zalo_user_id"),
    "counseling_request.received": ("reply_zalo_user_id",),
    "case.status_changed": ("outcome",),
}
NESTED = {"case.assigned": "assignments", "case.members_changed": "added", "counseling_request.assigned": "assignment"}
LINKS = ("accept_url", "decline_url")


def scrub(envelope: dict) -> bool:
    """Remove the content from one stored envelope; True when something was removed."""
    payload = envelope.get("payload") or {}
    changed = False
    for key in TOP.get(envelope.get("type", ""), ()):
        changed |= payload.pop(key, None) is not None
    nested = NESTED.get(envelope.get("type", ""))
    if nested and payload.get(nested):
        items = payload[nested] if isinstance(payload[nested], list) else [payload[nested]]
        for item in items:
            for key in LINKS:
                changed |= item.pop(key, None) is not None
    return changed


def upgrade() -> None:
    bind = op.get_bind()
    types = sorted({*TOP, *NESTED})
    rows = bind.execute(sa.text("SELECT seq, envelope FROM reporting.events WHERE type = ANY(:t)"), {"t": types}).all()
    for seq, raw in rows:
        envelope = json.loads(raw)
        if scrub(envelope):
            bind.execute(
                sa.text("UPDATE reporting.events SET envelope = :e WHERE seq = :s"),
                {"e": json.dumps(envelope, ensure_ascii=False), "s": seq},
            )


def downgrade() -> None:
    """Nothing to restore: the content is gone."""
