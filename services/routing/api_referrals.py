"""Referrals as first-class facts: to whom the club referred a case, when, by whom, and the acknowledgement.

Decree 56 (Art. 26–28) puts the 12-hour emergency measures and the 5-working-day support plan on the
commune People's Committee chairman and the commune child-protection officer; the club advises and
connects. So the emergency deadline is met by a recorded referral to a body that can act at once (the
commune People's Committee, its child-protection officer, the police, hotline 111), not by a member's
opinion or the case moving to "in progress".
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store
from services.routing.cases import locked_case
from services.routing.committee import ensure_committee_may_read
from services.routing.referrals import EMERGENCY_TARGETS
from services.routing.roster import ACTIVE
from shared.auth import Authenticator, Principal
from shared.errors import Conflict, FieldErrors, Forbidden, NotFound
from shared.events.routing import CaseReferred, ReferralAcknowledged, ReferralTarget
from shared.service import runtime_of
from shared.text import NfcStr
from shared.uow import RetryingRoute, unit_of_work

auth = Authenticator(store.credentials)
router = APIRouter(prefix="/v1", tags=["referrals"], route_class=RetryingRoute)
MemberOrChair = Annotated[Principal, Depends(auth.require("member", "chair", "admin"))]
Reader = Annotated[Principal, Depends(auth.require("member", "chair", "committee", "operator", "admin"))]

CLOCK_SKEW = timedelta(minutes=5)


class ReferralIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: ReferralTarget = Field(
        description="commune_committee (UBND cấp xã), commune_child_protection_officer (công chức làm công tác "
        "bảo vệ trẻ em cấp xã), police, hotline_111, health, school, other"
    )
    to_name: NfcStr | None = Field(default=None, max_length=300, description="e.g. “UBND xã Long Thuận”")
    referred_at: AwareDatetime | None = Field(default=None, description="When it was referred (default now).")


class AcknowledgementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    acknowledged_at: AwareDatetime | None = Field(default=None, description="Default now.")
    acknowledged_by: NfcStr | None = Field(default=None, max_length=300, description="Who took it up there.")


class ReferralOut(BaseModel):
    referral_id: uuid.UUID
    case_id: uuid.UUID
    to: str
    to_name: str | None
    referred_at: datetime
    recorded_by: uuid.UUID | None
    recorded_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    meets_emergency_deadline: bool


def referral_out(row) -> ReferralOut:
    return ReferralOut(
        referral_id=row.referral_id,
        case_id=row.case_id,
        to=row.target,
        to_name=row.target_name,
        referred_at=row.referred_at,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        meets_emergency_deadline=row.target in EMERGENCY_TARGETS,
    )


async def _may_act(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> None:
    if principal.role != "member":
        return
    a = store.assignments.c
    held = (
        await session.execute(
            select(a.assignment_id).where(
                a.case_id == case_id, a.member_id == principal.member_id, a.status.in_(ACTIVE)
            )
        )
    ).first()
    if held is None:
        raise Forbidden("You hold no assignment on this case.", "Đồng chí không được phân công vụ việc này.")


@router.post(
    "/cases/{case_id}/referrals",
    response_model=ReferralOut,
    status_code=201,
    summary="Record that the case was referred (to whom, when); a referral to the commune, police or 111 "
    "meets the 12-hour emergency deadline",
)
async def refer(request: Request, case_id: uuid.UUID, body: ReferralIn, principal: MemberOrChair) -> ReferralOut:
    async with unit_of_work(runtime_of(request)) as fx:
        case = await locked_case(fx.session, case_id)
        await _may_act(fx.session, principal, case_id)
        if case.status == "closed":
            raise Conflict("The case is closed.", "Vụ việc đã đóng.")
        referred_at = body.referred_at or fx.now
        if referred_at > fx.now + CLOCK_SKEW:
            raise FieldErrors.one("body.referred_at", "Cannot be in the future.", "Không được ở tương lai.", "future")
        values = dict(
            referral_id=uuid.uuid4(),
            case_id=case_id,
            target=body.to,
            target_name=body.to_name,
            referred_at=referred_at,
            recorded_by=principal.member_id or principal.account_id,
            recorded_at=fx.now,
        )
        await fx.session.execute(store.referrals.insert().values(**values))
        await fx.emit(
            CaseReferred(
                referral_id=values["referral_id"],
                case_id=case_id,
                code=case.code,
                unit=case.unit,
                urgency=case.urgency,
                to=body.to,
                referred_at=referred_at,
                recorded_by=values["recorded_by"],
            ),
            case_id,
        )
        row = (
            await fx.session.execute(
                select(store.referrals).where(store.referrals.c.referral_id == values["referral_id"])
            )
        ).one()
    return referral_out(row)


@router.post(
    "/cases/{case_id}/referrals/{referral_id}/acknowledgement",
    response_model=ReferralOut,
    summary="Record the acknowledgement received from the body the case was referred to",
)
async def acknowledge(
    request: Request, case_id: uuid.UUID, referral_id: uuid.UUID, body: AcknowledgementIn, principal: MemberOrChair
) -> ReferralOut:
    r = store.referrals.c
    async with unit_of_work(runtime_of(request)) as fx:
        case = await locked_case(fx.session, case_id)
        await _may_act(fx.session, principal, case_id)
        row = (
            await fx.session.execute(
                select(store.referrals).where(r.referral_id == referral_id, r.case_id == case_id).with_for_update()
            )
        ).first()
        if row is None:
            raise NotFound("No such referral.", "Không tìm thấy lượt chuyển gửi.")
        if row.acknowledged_at is not None:
            raise Conflict("The acknowledgement is already recorded.", "Xác nhận tiếp nhận đã được ghi trước đó.")
        at = body.acknowledged_at or fx.now
        if at > fx.now + CLOCK_SKEW or at < row.referred_at:
            raise FieldErrors.one(
                "body.acknowledged_at",
                "Must be between the referral and now.",
                "Phải sau thời điểm chuyển gửi và không ở tương lai.",
                "out_of_range",
            )
        await fx.session.execute(
            store.referrals.update()
            .where(r.referral_id == referral_id)
            .values(acknowledged_at=at, acknowledged_by=body.acknowledged_by)
        )
        await fx.emit(
            ReferralAcknowledged(
                referral_id=referral_id,
                case_id=case_id,
                code=case.code,
                unit=case.unit,
                to=row.target,
                referred_at=row.referred_at,
                acknowledged_at=at,
            ),
            case_id,
        )
        row = (await fx.session.execute(select(store.referrals).where(r.referral_id == referral_id))).one()
    return referral_out(row)


@router.get("/cases/{case_id}/referrals", response_model=list[ReferralOut], summary="A case's referrals")
async def list_referrals(request: Request, case_id: uuid.UUID, principal: Reader) -> list[ReferralOut]:
    r = store.referrals.c
    async with runtime_of(request).sessions() as session:
        await _may_act(session, principal, case_id)
        await ensure_committee_may_read(session, principal, case_id)
        if (
            await session.execute(select(store.cases.c.case_id).where(store.cases.c.case_id == case_id))
        ).first() is None:
            raise NotFound("No such case.", "Không tìm thấy vụ việc.")
        rows = await session.execute(select(store.referrals).where(r.case_id == case_id).order_by(r.referred_at))
        return [referral_out(row) for row in rows]
