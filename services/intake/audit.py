"""Reads of children's data: decrypting a case's child fields, and the audit-log row every such read writes
(DOMAIN.md §5). The row is written in the reading transaction, so no read goes unrecorded."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import store
from services.intake.cases import child_context
from shared.auth import Principal
from shared.case_keys import CaseCipher, case_cipher
from shared.crypto import FieldCipher


async def cipher_of_case(session: AsyncSession, master: FieldCipher, case_id: uuid.UUID) -> CaseCipher:
    """The case's cipher (its own key; values written before under the master key still read)."""
    return await case_cipher(session, store.case_keys, master, case_id)


async def child_fields(session: AsyncSession, cipher: FieldCipher | CaseCipher, case_id: uuid.UUID) -> dict[str, str]:
    """The case's child fields that hold a value, decrypted (with the case's cipher: `case_cipher`)."""
    row = (await session.execute(select(store.case_children).where(store.case_children.c.case_id == case_id))).first()
    if row is None:
        return {}
    return {
        field: cipher.decrypt(getattr(row, field), child_context(case_id, field))
        for field in store.CHILD_FIELDS
        if getattr(row, field) is not None
    }


async def record_read(
    session: AsyncSession,
    principal: Principal,
    *,
    action: str,
    subject_id: uuid.UUID,
    fields: Iterable[str],
    at: datetime,
    address: str | None = None,
) -> None:
    """Write who read which fields of which case (or counseling request: `action` tells them apart)."""
    await session.execute(
        store.audit_log.insert().values(
            at=at,
            account_id=principal.account_id,
            key_id=principal.key_id,
            role=principal.role,
            action=action,
            case_id=subject_id,
            fields=sorted(fields),
            address=address,
        )
    )
