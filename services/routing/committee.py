"""The Standing Committee (Ban Thường vụ Tỉnh đoàn) and forwarded cases: what the committee may read (a case
while it is with the committee, and once closed) and recording its decision on a forwarding (`case.decided`;
a returned case is in progress again, for the club to complete and forward anew)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store
from services.routing.cases import locked_case, move_case
from services.routing.domain import DECISION_MOVES_TO, committee_sees
from services.routing.roster import chair_recipients
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, NotFound
from shared.events.routing import CaseDecided
from shared.uow import UnitOfWork

NOT_FORWARDED = "This case has not been forwarded to the Standing Committee."
NOT_FORWARDED_VI = "Vụ việc này chưa được chuyển tới Ban Thường vụ."


async def ensure_committee_may_read(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> None:
    """403 for the committee on a case that is not with it (nor closed); nothing for other roles."""
    if principal.role != "committee":
        return
    status = (
        await session.execute(select(store.cases.c.status).where(store.cases.c.case_id == case_id))
    ).scalar_one_or_none()
    if status is None:
        raise NotFound("No such case.", "Không tìm thấy vụ việc.")
    if not committee_sees(status):
        raise Forbidden(NOT_FORWARDED, NOT_FORWARDED_VI)


async def record_decision(fx: UnitOfWork, case_id: uuid.UUID, outcome: str, text: str, decided_by: uuid.UUID) -> None:
    """One decision per forwarding: 409 unless the case is with the committee and not yet decided."""
    case = await locked_case(fx.session, case_id)
    if case.status != "forwarded" or case.forwarded_at is None:
        raise Conflict(
            f"Only a forwarded case awaits a decision; this one is '{case.status}'.",
            f"Chỉ quyết định vụ việc đã được chuyển tới Ban Thường vụ; vụ việc này đang ở trạng thái '{case.status}'.",
        )
    d = store.decisions.c
    taken = (
        await fx.session.execute(select(d.decision_id).where(d.case_id == case_id, d.forwarded_at == case.forwarded_at))
    ).first()
    if taken is not None:
        raise Conflict(
            "The Standing Committee has already decided on this forwarding.",
            "Ban Thường vụ đã có quyết định cho lần chuyển này.",
        )
    await fx.session.execute(
        store.decisions.insert().values(
            decision_id=uuid.uuid4(),
            case_id=case_id,
            outcome=outcome,
            text=text,
            forwarded_at=case.forwarded_at,
            decided_by=decided_by,
            decided_at=fx.now,
        )
    )
    if outcome in DECISION_MOVES_TO:
        await move_case(fx, case_id, DECISION_MOVES_TO[outcome])
    await fx.emit(
        CaseDecided(
            case_id=case_id,
            code=case.code,
            unit=case.unit,
            urgency=case.urgency,
            outcome=outcome,
            decided_by=decided_by,
            decided_at=fx.now,
            forwarded_at=case.forwarded_at,
            recipients=await chair_recipients(fx.session),
        ),
        case_id,
    )
