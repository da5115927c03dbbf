"""Counseling requests: giving a request to a member who covers its topic, or telling the chair that
nobody can take it.
"""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store
from services.routing.assignments import (
    AssignmentBatch,
    _serialise_assignment,
    plan_timers,
    required_fields,
)
from services.routing.deadlines import add_working_days, ladder
from services.routing.domain import decide
from services.routing.roster import (
    candidates,
    chair_recipients,
    members_by_id,
)
from shared.events.intake import CounselingRequestReceived
from shared.events.routing import (
    AssignmentInfo,
    CaseEscalated,
    CounselingRequestAssigned,
)
from shared.uow import UnitOfWork


async def topic_fields(session: AsyncSession, topic: str, default: str) -> list[str]:
    """A topic that is a category code takes the category's fields; any other topic the default fields."""
    return await required_fields(session, topic) or [f for f in default.split(";") if f]


async def assign_new_request(fx: UnitOfWork, event: CounselingRequestReceived) -> None:
    """Record a counseling request and give it to one member with the topic's first coverable field."""
    session = fx.session
    fields = await topic_fields(session, event.topic, fx.settings.counseling_default_fields)
    inserted = (
        await session.execute(
            pg_insert(store.counseling_requests)
            .values(
                request_id=event.request_id,
                code=event.code,
                topic=event.topic,
                channel=event.channel,
                status="received",
                required_fields=fields,
                reply_to=event.reply_to,
                received_at=event.received_at,
            )
            .on_conflict_do_nothing()
            .returning(store.counseling_requests.c.request_id)
        )
    ).first()
    if inserted is None:
        return
    due = add_working_days(event.received_at, fx.settings.counseling_answer_working_days)
    await plan_timers(fx, ladder("answer", due), None, event.request_id)
    await _serialise_assignment(session)
    if await _give_request(fx, event.request_id, event.code, event.topic, fields, excluded=set()) is None:
        await tell_chair_nobody_available(fx, event.request_id, event.code)


async def tell_chair_nobody_available(fx: UnitOfWork, request_id: uuid.UUID, code: str) -> None:
    """Nobody available can take a counseling request: the chair hears it now (notify delivers
    `case.escalated`), rather than when the answer deadline has passed."""
    await fx.emit(
        CaseEscalated(
            request_id=request_id,
            code=code,
            deadline="acceptance",
            due_at=fx.now,
            urgency=fx.settings.counseling_urgency,
            level="chair",
            recipients=await chair_recipients(fx.session),
            escalated_at=fx.now,
            reason="nobody_available",
        ),
        request_id,
    )


async def _give_request(
    fx: UnitOfWork, request_id: uuid.UUID, code: str, topic: str, fields: list[str], excluded: set[uuid.UUID]
) -> AssignmentInfo | None:
    members = await members_by_id(fx.session)
    urgency = fx.settings.counseling_urgency
    decision = decide(
        fields, None, await candidates(fx.session, fx.now), urgency=urgency, excluded={f: excluded for f in fields}
    )
    if not decision.picks:
        return None
    member_id, field = decision.picks[0]  # one member answers a request
    batch = AssignmentBatch(fx.settings, fx.now)
    info = batch.add(members[member_id], field, urgency, request_id=request_id)
    await batch.write(fx.session)
    await fx.session.execute(
        store.counseling_requests.update()
        .where(store.counseling_requests.c.request_id == request_id, store.counseling_requests.c.status != "answered")
        .values(status="assigned")
    )
    await fx.emit(
        CounselingRequestAssigned(request_id=request_id, code=code, topic=topic, assignment=info, assigned_at=fx.now),
        request_id,
    )
    return info
