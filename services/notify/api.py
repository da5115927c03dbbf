"""Notify's HTTP API: the delivery log (by case, by member, by status) and dead-letter retry for operators."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy import select, update

from services.notify import store
from services.notify.wakeup import DISPATCHER
from shared.auth import Authenticator, Principal
from shared.errors import Conflict, Forbidden, NotFound
from shared.service import runtime_of
from shared.uow import unit_of_work

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])
auth = Authenticator(store.credentials)
Reader = Annotated[Principal, Depends(auth.require("chair", "committee", "operator", "admin", "member"))]
Operator = Annotated[Principal, Depends(auth.require("operator", "admin"))]
Status = Literal["pending", "sending", "sent", "fell_back", "dead", "skipped"]


class Delivery(BaseModel):
    id: uuid.UUID
    source_type: str
    template: str
    channel: str
    status: str
    attempts: int
    reason: str | None
    last_error: str | None
    case_id: uuid.UUID | None
    request_id: uuid.UUID | None
    code: str | None
    member_id: uuid.UUID | None
    recipient_name: str
    fallback_of: uuid.UUID | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


class DeliveryLog(BaseModel):
    total: int
    deliveries: list[Delivery]


async def _query(
    request: Request,
    principal: Principal,
    *,
    case_id: uuid.UUID | None = None,
    member_id: uuid.UUID | None = None,
    state: str | None = None,
    limit: int = 200,
) -> DeliveryLog:
    d = store.deliveries.c
    if principal.role == "member":  # a member sees only what was sent to them
        if member_id is not None and member_id != principal.member_id:
            raise Forbidden(
                "A member may only read their own deliveries.", "Thành viên chỉ được xem tin gửi cho chính mình."
            )
        member_id = principal.member_id
        if member_id is None:
            raise Forbidden("This credential is bound to no member.", "Mã truy cập này không gắn với thành viên nào.")
    query = select(*(getattr(d, f) for f in Delivery.model_fields)).order_by(d.created_at.desc(), d.id).limit(limit)
    if case_id is not None:
        query = query.where(d.case_id == case_id)
    if member_id is not None:
        query = query.where(d.member_id == member_id)
    if state is not None:
        query = query.where(d.status == state)
    async with runtime_of(request).sessions() as session:
        rows = [Delivery(**row._mapping) for row in await session.execute(query)]
    return DeliveryLog(total=len(rows), deliveries=rows)


Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("", response_model=DeliveryLog, summary="Delivery log, filtered by case, member and status")
async def deliveries(
    request: Request,
    principal: Reader,
    case_id: uuid.UUID | None = None,
    member_id: uuid.UUID | None = None,
    status_: Annotated[Status | None, Query(alias="status", description="`dead` lists the dead-letter state")] = None,
    limit: Limit = 200,
) -> DeliveryLog:
    return await _query(request, principal, case_id=case_id, member_id=member_id, state=status_, limit=limit)


@router.get("/by-case/{case_id}", response_model=DeliveryLog, summary="Every delivery about one case")
async def by_case(request: Request, principal: Reader, case_id: uuid.UUID, limit: Limit = 200) -> DeliveryLog:
    return await _query(request, principal, case_id=case_id, limit=limit)


@router.get("/by-member/{member_id}", response_model=DeliveryLog, summary="Every delivery to one member")
async def by_member(request: Request, principal: Reader, member_id: uuid.UUID, limit: Limit = 200) -> DeliveryLog:
    return await _query(request, principal, member_id=member_id, limit=limit)


@router.post("/{delivery_id}/retry", response_model=Delivery, summary="Send a dead-lettered delivery again")
async def retry(request: Request, _principal: Operator, delivery_id: Annotated[uuid.UUID, Path()]) -> Delivery:
    d = store.deliveries
    async with unit_of_work(runtime_of(request)) as uow:
        session = uow.session
        row = (
            await session.execute(
                update(d)
                .where(d.c.id == delivery_id, d.c.status == "dead")
                .values(
                    status="pending",
                    attempts=0,
                    next_attempt_at=uow.now,
                    lease_until=None,
                    reason="retried by an operator",
                )
                .returning(*(getattr(d.c, f) for f in Delivery.model_fields))
            )
        ).first()
        if row is None:
            exists = (await session.execute(select(d.c.status).where(d.c.id == delivery_id))).scalar_one_or_none()
            if exists is None:
                raise NotFound("No such delivery.", "Không tìm thấy tin gửi.")
            raise Conflict(
                f"Only a dead delivery can be retried (it is {exists}).",
                f"Chỉ gửi lại được tin đã thất bại hẳn (tin này đang ở trạng thái {exists}).",
            )
        uow.wake(DISPATCHER)  # an UPDATE fires no NOTIFY: send it now, not at the next poll
    return Delivery(**row._mapping)
