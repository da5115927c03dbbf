"""A member's own work over HTTP: my assignments (cases and counseling requests) and editing my opinion.

Added for the web pages ("Phân công của tôi", "Sửa ý kiến"); a member sees and changes only their own."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import case, func, literal, select

from services.routing import store
from services.routing.api import CaseOut, OpinionIn, _case_view, _holds, auth
from services.routing.cases import locked_case
from services.routing.committee import ensure_committee_may_read
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, NotFound
from shared.service import runtime_of
from shared.uow import RetryingRoute, unit_of_work

router = APIRouter(prefix="/v1", tags=["members' own work"], route_class=RetryingRoute)
MemberOnly = Annotated[Principal, Depends(auth.require("member"))]
URGENCY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


class MyAssignment(BaseModel):
    assignment_id: uuid.UUID
    case_id: uuid.UUID | None
    request_id: uuid.UUID | None
    code: str
    category: str = ""  # the case's category, or the counseling request's topic
    urgency: str
    field: str | None
    status: str
    subject_status: str
    assigned_at: datetime
    respond_by: datetime
    answered_at: datetime | None


@router.get(
    "/assignments/mine",
    response_model=list[MyAssignment],
    summary="My assignments: pending first, then the most urgent, then the newest",
)
async def my_assignments(
    request: Request,
    principal: MemberOnly,
    include_ended: Annotated[bool, Query(description="Also declined and removed ones.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[MyAssignment]:
    a, c, r = store.assignments.c, store.cases.c, store.counseling_requests.c
    settings = request.app.state.runtime.settings
    urgency = func.coalesce(c.urgency, literal(settings.counseling_urgency))
    rank = case(*((urgency == name, value) for name, value in URGENCY_RANK.items()), else_=9)
    query = (
        select(
            store.assignments,
            func.coalesce(c.code, r.code).label("code"),
            func.coalesce(c.category, r.topic).label("category"),
            urgency.label("urgency"),
            func.coalesce(c.status, r.status).label("subject_status"),
        )
        .outerjoin(store.cases, c.case_id == a.case_id)
        .outerjoin(store.counseling_requests, r.request_id == a.request_id)
        .where(a.member_id == principal.member_id)
        .order_by((a.status != "pending"), rank, a.assigned_at.desc())
        .limit(limit)
    )
    if not include_ended:
        query = query.where(a.status.in_(("pending", "accepted")))
    async with request.app.state.runtime.sessions() as session:
        rows = (await session.execute(query)).all()
    return [MyAssignment.model_validate(row._mapping, from_attributes=False) for row in rows]


@router.put(
    "/cases/{case_id}/opinions/{opinion_id}",
    response_model=CaseOut,
    summary="Edit my opinion (while the case is in progress)",
)
async def edit_opinion(
    request: Request, case_id: uuid.UUID, opinion_id: uuid.UUID, body: OpinionIn, principal: MemberOnly
) -> CaseOut:
    o = store.opinions.c
    async with unit_of_work(runtime_of(request)) as fx:
        found = await locked_case(fx.session, case_id)
        row = (
            await fx.session.execute(select(store.opinions).where(o.opinion_id == opinion_id, o.case_id == case_id))
        ).first()
        if row is None:
            raise NotFound("No such opinion on this case.", "Không tìm thấy ý kiến này trong vụ việc.")
        if row.member_id != principal.member_id or not await _holds(fx.session, case_id, principal.member_id):
            raise Forbidden(
                "Only its author, still on the case, may edit an opinion.",
                "Chỉ người viết ý kiến, còn được phân công vụ việc, mới được sửa ý kiến.",
            )
        if found.status not in ("accepted", "in_progress"):
            raise Conflict(
                f"Opinions are edited while the case is in progress, not in state '{found.status}'.",
                "Chỉ sửa được ý kiến khi vụ việc đang được xử lý.",
            )
        await fx.session.execute(
            store.opinions.update()
            .where(o.opinion_id == opinion_id)
            .values(text=body.text, recommended_level=body.recommended_level, referrals=list(body.referrals))
        )
    return await _case_view(request, case_id)


class CaseDeadline(BaseModel):
    deadline: str  # emergency_intervention (Decree 56: 12 hours) | support_plan (5 working days)
    due_at: datetime


Viewer = Annotated[Principal, Depends(auth.require("member", "chair", "committee", "admin"))]


@router.get(
    "/cases/{case_id}/deadlines",
    response_model=list[CaseDeadline],
    summary="The case's Decree 56 deadlines (emergency intervention, support plan), earliest first",
)
async def case_deadlines(request: Request, case_id: uuid.UUID, principal: Viewer) -> list[CaseDeadline]:
    t = store.timers.c
    async with request.app.state.runtime.sessions() as session:
        if principal.role == "member" and not await _holds(session, case_id, principal.member_id):
            raise Forbidden("You hold no assignment on this case.", "Đồng chí không được phân công vụ việc này.")
        await ensure_committee_may_read(session, principal, case_id)
        rows = (
            await session.execute(
                select(t.deadline, func.min(t.due_at).label("due_at"))
                .where(t.case_id == case_id, t.assignment_id.is_(None), t.deadline != "leave_start")
                .group_by(t.deadline)
                .order_by(func.min(t.due_at))
            )
        ).all()
    return [CaseDeadline(deadline=row.deadline, due_at=row.due_at) for row in rows]
