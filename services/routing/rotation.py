"""Key rotation of routing's encrypted columns (`python -m services.routing rotate-keys`, after intake's: the
same CHILD_DATA_KEYS): the wrapped per-case keys, counseling answers, and opinions, proposals and outcomes
written before per-case keys (under the master key). See `shared/rotation.py`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.routing import store
from services.routing.freetext import answer_context, opinion_context, outcome_context, proposal_context
from shared import rotation as shared_rotation
from shared.case_keys import wrap_context
from shared.crypto import FieldCipher
from shared.rotation import Encrypted

ENCRYPTED: tuple[Encrypted, ...] = (
    Encrypted(store.case_keys, "wrapped", "case_id", lambda row: wrap_context(row.case_id)),
    Encrypted(store.counseling_requests, "answer_text", "request_id", lambda row: answer_context(row.request_id)),
    Encrypted(store.cases, "proposal", "case_id", lambda row: proposal_context(row.case_id)),
    Encrypted(store.cases, "outcome", "case_id", lambda row: outcome_context(row.case_id)),
    Encrypted(store.opinions, "text", "opinion_id", lambda row: opinion_context(row.opinion_id)),
)


async def rotate_all(sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher) -> dict[str, int]:
    return await shared_rotation.rotate_all(sessions, cipher, ENCRYPTED)
