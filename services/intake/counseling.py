"""Counseling requests from children and parents: the web form (no account) and Zalo messages.

The requester's words and contact are encrypted like children's data; the event carries the topic,
channel and an age band only.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import domain, store
from services.intake.context import IntakeContext
from shared.events import age_band
from shared.events.intake import CounselingRequestReceived
from shared.outbox import Outbox
from shared.sealed import Sealer, reply_to_context


def message_context(request_id: uuid.UUID) -> str:
    return f"counseling:{request_id}:message"


async def open_request(
    session: AsyncSession,
    outbox: Outbox,
    context: IntakeContext,
    *,
    now: datetime,
    topic: str,
    channel: str,
    age: int | None = None,
    contact: dict | None = None,
    zalo_user_id: str | None = None,
    secret: str | None = None,
) -> tuple[uuid.UUID, str]:
    request_id = uuid.uuid4()
    code = domain.counseling_code(domain.local_date(now).year)
    band = age_band(age)
    await session.execute(
        store.counseling_requests.insert().values(
            id=request_id,
            code=code,
            secret_sha256=hashlib.sha256(secret.encode()).hexdigest() if secret else None,
            topic=topic,
            channel=channel,
            age_band=band,
            contact=(
                context.cipher.encrypt(json.dumps(contact, ensure_ascii=False), f"counseling:{request_id}:contact")
                if contact
                else None
            ),
            zalo_user_id=zalo_user_id,
            status="received",
            received_at=now,
        )
    )
    await outbox.add(
        session,
        CounselingRequestReceived(
            request_id=request_id,
            code=code,
            topic=topic,
            channel=channel,
            age_band=band,
            received_at=now,
            reply_to=(
                Sealer.from_settings(context.settings).seal("notify", zalo_user_id, reply_to_context(request_id))
                if zalo_user_id
                else None
            ),
        ),
        key=request_id,
    )
    return request_id, code


async def add_message(
    session: AsyncSession,
    context: IntakeContext,
    request_id: uuid.UUID,
    *,
    now: datetime,
    kind: str,
    body: str,
    zalo_msg_id: str | None = None,
) -> None:
    await session.execute(
        store.counseling_messages.insert().values(
            request_id=request_id,
            at=now,
            kind=kind,
            body=context.cipher.encrypt(body, message_context(request_id)),
            zalo_msg_id=zalo_msg_id,
        )
    )
