"""Key rotation: re-encrypt every encrypted column under the active key (`python -m services.intake rotate-keys`).

Every place a value is encrypted is listed in `ENCRYPTED`, with the associated data it was bound to. Rows
are taken in batches (each its own transaction, rows locked while rewritten) and only those not already
under the active key, so the command can be stopped and run again, and runs while intake serves.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake import store
from services.intake.cases import child_context, counseling_answer_context, report_notes_context
from services.intake.counseling import message_context
from services.intake.withdrawal import reason_context
from shared import rotation as shared_rotation
from shared.case_keys import wrap_context
from shared.crypto import FieldCipher
from shared.rotation import Encrypted

ENCRYPTED: tuple[Encrypted, ...] = (
    *(
        Encrypted(store.case_children, field, "case_id", lambda row, f=field: child_context(row.case_id, f))
        for field in store.CHILD_FIELDS
    ),
    *(
        Encrypted(store.cases, field, "id", lambda row, f=field: child_context(row.id, f))
        for field in ("reporter_contact", "summary", "urgency_reason", "emergency_reason")
    ),
    Encrypted(store.monthly_reports, "notes", "id", lambda row: report_notes_context(row.id)),
    Encrypted(store.counseling_requests, "answer_text", "id", lambda row: counseling_answer_context(row.id)),
    Encrypted(store.counseling_requests, "contact", "id", lambda row: f"counseling:{row.id}:contact"),
    Encrypted(store.counseling_messages, "body", "id", lambda row: message_context(row.request_id)),
    Encrypted(store.zalo_events, "raw", "id", lambda row: f"zalo:{row.dedupe_key}"),
    # Per-case data keys are wrapped by the master key: rotation re-wraps them (values under them stay as they are).
    Encrypted(store.case_keys, "wrapped", "case_id", lambda row: wrap_context(row.case_id)),
    Encrypted(store.consent_withdrawals, "reason", "case_id", lambda row: reason_context(row.case_id)),
)


async def rotate_all(sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher) -> dict[str, int]:
    """Every encrypted column of intake, re-encrypted under the active key: {"table.column": values rewritten}."""
    return await shared_rotation.rotate_all(sessions, cipher, ENCRYPTED)
