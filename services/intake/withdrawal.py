"""Consent withdrawal (Law 91/2025, Decree 56): crypto-shredding of one case's children's data.

The case's data key is destroyed (`shared.case_keys.destroy`), so every value encrypted with it — the child's
fields, the reporter's contact, the summary and the reasons — is unreadable in the database and in every
backup. Values written before per-case keys existed (under the master key) are overwritten. The case's row
(unit, category, dates, age band) stays, so the figures keep their counts. Who did it, when and why is kept
(`consent_withdrawals`, the audit log), and `case.consent_withdrawn` tells routing to destroy its key too."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import store
from shared.auth import Principal
from shared.case_keys import CASE_KEY_ID, destroy
from shared.crypto import FieldCipher
from shared.events.intake import CaseConsentWithdrawn
from shared.outbox import Outbox

FREE_TEXT = ("reporter_contact", "summary", "urgency_reason", "emergency_reason")


def reason_context(case_id: uuid.UUID) -> str:
    return f"withdrawal:{case_id}:reason"


def under_case_key(value: str | None) -> bool:
    return value is not None and value.split(":", 2)[1:2] == [CASE_KEY_ID]


async def erase_case(
    session: AsyncSession,
    outbox: Outbox,
    cipher: FieldCipher,
    case_id: uuid.UUID,
    *,
    code: str,
    at: datetime,
    why: str,
) -> None:
    """Destroy the case's key and overwrite what was not under it; announce it (routing erases its part)."""
    await destroy(session, store.case_keys, case_id, at=at, why=why)
    c = store.cases.c
    row = (await session.execute(select(*(c[f] for f in FREE_TEXT)).where(c.id == case_id))).one()
    legacy = {f: None for f in FREE_TEXT if getattr(row, f) is not None and not under_case_key(getattr(row, f))}
    await session.execute(store.cases.update().where(c.id == case_id).values(identity_hash=None, **legacy))
    children = (
        await session.execute(select(store.case_children).where(store.case_children.c.case_id == case_id))
    ).first()
    if children is not None and not all(
        under_case_key(getattr(children, f)) for f in store.CHILD_FIELDS if getattr(children, f) is not None
    ):
        await session.execute(delete(store.case_children).where(store.case_children.c.case_id == case_id))
    event = CaseConsentWithdrawn(case_id=case_id, code=code, withdrawn_at=at, reason=why)  # type: ignore[arg-type]
    await outbox.add(session, event, key=case_id)  # type: ignore[arg-type]


async def withdraw_consent(
    session: AsyncSession,
    outbox: Outbox,
    cipher: FieldCipher,
    principal: Principal,
    case_id: uuid.UUID,
    code: str,
    reason: str,
    at: datetime,
) -> None:
    """Record who withdrew consent and why, write the audit row, and erase the case."""
    await session.execute(
        store.consent_withdrawals.insert().values(
            case_id=case_id,
            at=at,
            account_id=principal.account_id,
            role=principal.role,
            reason=cipher.encrypt(reason, reason_context(case_id)),
        )
    )
    await session.execute(
        store.audit_log.insert().values(
            at=at,
            account_id=principal.account_id,
            key_id=principal.key_id,
            role=principal.role,
            action="consent_withdrawn",
            case_id=case_id,
            fields=sorted((*store.CHILD_FIELDS, *FREE_TEXT)),
        )
    )
    await erase_case(session, outbox, cipher, case_id, code=code, at=at, why="consent_withdrawn")
