"""The free text routing keeps about a child (a member's opinion, the chair's proposal, the Standing
Committee's decision, the outcome, the club's answer to a counseling request): encrypted with CHILD_DATA_KEYS
(`shared.crypto`), each value bound to its row and column, and each read written to `routing.audit_log`."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store
from shared.case_keys import CASE_KEY_ID, PREFIX, CaseCipher, case_cipher, case_ciphers, destroy
from shared.crypto import FieldCipher


def proposal_context(case_id: uuid.UUID) -> str:
    return f"case:{case_id}:proposal"


def outcome_context(case_id: uuid.UUID) -> str:
    return f"case:{case_id}:outcome"


def reopen_context(case_id: uuid.UUID) -> str:
    return f"case:{case_id}:reopen_reason"


def opinion_context(opinion_id: uuid.UUID) -> str:
    return f"opinion:{opinion_id}:text"


def decision_context(decision_id: uuid.UUID) -> str:
    return f"decision:{decision_id}:text"


def answer_context(request_id: uuid.UUID) -> str:
    return f"counseling:{request_id}:answer"


def cipher_of(settings) -> FieldCipher:  # type: ignore[no-untyped-def]
    return FieldCipher.from_settings(settings)


async def case_cipher_of(
    session: AsyncSession,
    settings,
    case_id: uuid.UUID,
    *,
    create_at: datetime | None = None,  # type: ignore[no-untyped-def]
) -> CaseCipher:
    """The case's own cipher; `create_at` makes its key when it has none (writing)."""
    return await case_cipher(session, store.case_keys, cipher_of(settings), case_id, create_at=create_at)


async def case_ciphers_of(session: AsyncSession, settings, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, CaseCipher]:  # type: ignore[no-untyped-def]
    """The ciphers of several cases in one query (a list page)."""
    return await case_ciphers(session, store.case_keys, cipher_of(settings), case_ids)


async def erase_case(session: AsyncSession, case_id: uuid.UUID, at: datetime, why: str = "consent_withdrawn") -> None:
    """Consent withdrawn (or retention): destroy the case's key; overwrite what was written under the master key
    before."""
    await destroy(session, store.case_keys, case_id, at=at, why=why)
    own = f"{PREFIX}:{CASE_KEY_ID}:%"
    c, o = store.cases.c, store.opinions.c
    for column in (c.proposal, c.outcome, c.reopen_reason):
        await session.execute(
            update(store.cases).where(c.case_id == case_id, column.not_like(own)).values({column: None})
        )
    await session.execute(update(store.opinions).where(o.case_id == case_id, o.text.not_like(own)).values(text=""))
