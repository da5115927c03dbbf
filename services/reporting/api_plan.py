"""The plan tracker's HTTP API: the roadmap with statuses, cadence checks, and recording what was held."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from services.reporting import plan, store
from services.reporting.api import READERS, PeriodQ, auth, today
from shared.auth import Principal
from shared.errors import FieldErrors
from shared.service import runtime_of
from shared.text import NfcStr
from shared.uow import unit_of_work

router = APIRouter(prefix="/v1/plan", tags=["plan"])
Reader = Annotated[Principal, Depends(auth.require(*READERS))]
Recorder = Annotated[Principal, Depends(auth.require("chair", "committee", "admin"))]


class ActivityIn(BaseModel):
    """What was held: a thematic programme, a board meeting, a club meeting, support to the Children's Council."""

    model_config = ConfigDict(extra="forbid")

    held_on: date
    kind: Literal[
        "thematic_programme",
        "board_meeting",
        "club_meeting",
        "council_support",
        "board_training",
        "local_club",
        "other",
    ]
    title_vi: NfcStr = Field(min_length=1, max_length=300)
    participants: int = Field(ge=0, le=100000)
    minutes: NfcStr = Field(default="", max_length=20000)
    plan_item_id: str | None = Field(default=None, max_length=64, description="Roadmap item this fulfils")
    unit: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9-]{0,99}$",
        description="The commune/ward of a local club (required for kind local_club)",
    )

    @field_validator("title_vi", "minutes", "plan_item_id")
    @classmethod
    def no_control_characters(cls, value: str | None) -> str | None:
        if value is not None and any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
            raise ValueError("must not contain control characters")
        return value


class ActivityOut(ActivityIn):
    activity_id: uuid.UUID
    recorded_at: datetime


@router.get("", summary="Roadmap items (done / due / overdue), board and club meeting cadence, activities held")
async def tracker(request: Request, _principal: Reader, period: PeriodQ) -> dict[str, Any]:
    async with runtime_of(request).sessions() as session:
        return await plan.tracker(session, period, today(request))


@router.post("/activities", status_code=201, response_model=ActivityOut, summary="Record an activity held")
async def record(request: Request, principal: Recorder, body: ActivityIn) -> ActivityOut:
    if body.held_on > today(request):
        raise FieldErrors.one(
            "body.held_on", "An activity is recorded once held.", "Chỉ ghi nhận hoạt động đã diễn ra."
        )
    if body.kind == "local_club" and body.unit is None:
        raise FieldErrors.one(
            "body.unit", "A local club names its commune or ward.", "Cần ghi rõ xã, phường của Câu lạc bộ.", "missing"
        )
    async with unit_of_work(runtime_of(request)) as uow:
        session = uow.session
        if body.unit is not None:
            u = store.units.c
            if (await session.execute(select(u.code).where(u.code == body.unit))).first() is None:
                raise FieldErrors.one("body.unit", "No such unit.", "Không có đơn vị này.")
        if body.plan_item_id is not None:
            known = (
                await session.execute(
                    select(store.plan_items.c.item_id).where(store.plan_items.c.item_id == body.plan_item_id)
                )
            ).first()
            if known is None:
                raise FieldErrors.one("body.plan_item_id", "No such roadmap item.", "Không có mục này trong lộ trình.")
        row = dict(
            activity_id=uuid.uuid4(),
            recorded_at=uow.now,
            recorded_by=principal.account_id,
            **body.model_dump(),
        )
        await session.execute(store.plan_activities.insert().values(**row))
    return ActivityOut(**{k: v for k, v in row.items() if k != "recorded_by"})
