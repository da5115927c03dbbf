"""Consent obtained later: a case recorded on the emergency basis (`emergency_protection_of_life_or_health`)
opens a follow-up; the chair lists the open ones (counted) and closes one by recording the consent obtained."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from services.intake import store
from services.intake.api_cases import auth
from services.intake.context import intake_context
from services.intake.schemas import Consent
from services.intake.withdrawal import withdraw_consent
from shared.auth import Principal
from shared.errors import Conflict, FieldErrors, NotFound
from shared.http_errors import problems
from shared.service import runtime_of
from shared.text import NfcStr

router = APIRouter(tags=["cases"])
Chair = Annotated[Principal, Depends(auth.require("chair", "admin"))]


class FollowUp(BaseModel):
    case_id: uuid.UUID
    code: str
    unit: str
    opened_at: datetime
    resolved_at: datetime | None


class FollowUps(BaseModel):
    open: int
    items: list[FollowUp]


@router.get(
    "/v1/consent-follow-ups",
    response_model=FollowUps,
    summary="Cases recorded on the emergency basis whose consent is still to be obtained (chair)",
    responses=problems(401, 403),
)
async def list_follow_ups(request: Request, _principal: Chair, include_resolved: bool = False) -> FollowUps:
    f, c = store.consent_followups.c, store.cases.c
    query = (
        select(f.case_id, c.code, c.unit, f.opened_at, f.resolved_at)
        .join(store.cases, c.id == f.case_id)
        .order_by(f.opened_at)
        .limit(500)
    )
    if not include_resolved:
        query = query.where(f.resolved_at.is_(None))
    async with runtime_of(request).sessions() as session:
        rows = (await session.execute(query)).all()
        count = (
            await session.execute(
                select(func.count()).select_from(store.consent_followups).where(f.resolved_at.is_(None))
            )
        ).scalar_one()
    return FollowUps(open=count, items=[FollowUp.model_validate(r._mapping) for r in rows])


@router.put(
    "/v1/cases/{case_id}/consent",
    response_model=FollowUp,
    summary="Record the consent obtained after an emergency: closes the case's follow-up (chair)",
    responses=problems(401, 403, 404),
)
async def record_consent(case_id: uuid.UUID, body: Consent, request: Request, principal: Chair) -> FollowUp:
    if body.child is None and body.guardian is None:
        raise FieldErrors.one(
            "body", "Give the child's or the guardian's consent.", "Cần có sự đồng ý của trẻ hoặc người giám hộ."
        )
    runtime = runtime_of(request)
    now = runtime.clock.now()
    f, c = store.consent_followups.c, store.cases.c
    async with runtime.sessions() as session, session.begin():
        row = (
            await session.execute(
                select(f.case_id, c.code, c.unit, f.opened_at, f.resolved_at)
                .join(store.cases, c.id == f.case_id)
                .where(f.case_id == case_id)
                .with_for_update(of=store.consent_followups)
            )
        ).first()
        if row is None:
            raise NotFound("No consent follow-up for this case.", "Vụ việc này không có việc bổ sung sự đồng ý.")
        values = {
            f"{who}_consent": getattr(body, who).model_dump(mode="json")
            for who in ("child", "guardian")
            if getattr(body, who) is not None
        }
        await session.execute(store.cases.update().where(c.id == case_id).values(**values))
        resolved_at = row.resolved_at or now
        await session.execute(
            store.consent_followups.update()
            .where(f.case_id == case_id)
            .values(resolved_at=resolved_at, resolved_by=principal.account_id)
        )
    return FollowUp(case_id=case_id, code=row.code, unit=row.unit, opened_at=row.opened_at, resolved_at=resolved_at)


class WithdrawalIn(BaseModel):
    reason: Annotated[NfcStr, Field(min_length=3, max_length=2000)]


class WithdrawalOut(BaseModel):
    case_id: uuid.UUID
    withdrawn_at: datetime
    erased: bool


@router.post(
    "/v1/cases/{case_id}/consent-withdrawal",
    response_model=WithdrawalOut,
    status_code=201,
    summary="Record that consent was withdrawn: the case's child data and free text are erased for good (chair, admin)",
    responses=problems(401, 403, 404, 409),
)
async def withdraw(case_id: uuid.UUID, body: WithdrawalIn, request: Request, principal: Chair) -> WithdrawalOut:
    runtime = runtime_of(request)
    now = runtime.clock.now()
    c = store.cases.c
    async with runtime.sessions() as session, session.begin():
        row = (await session.execute(select(c.id, c.code).where(c.id == case_id).with_for_update())).first()
        if row is None:
            raise NotFound("No such case.", "Không tìm thấy vụ việc.")
        done = (
            await session.execute(
                select(store.consent_withdrawals.c.at).where(store.consent_withdrawals.c.case_id == case_id)
            )
        ).first()
        if done is not None:
            raise Conflict(
                "Consent was already withdrawn for this case.", "Vụ việc này đã được ghi nhận rút lại sự đồng ý."
            )
        await withdraw_consent(
            session,  # type: ignore[arg-type]
            runtime.outbox,  # type: ignore[arg-type]
            intake_context(request).cipher,
            principal,
            case_id,
            row.code,
            body.reason,
            now,
        )
    return WithdrawalOut(case_id=case_id, withdrawn_at=now, erased=True)
