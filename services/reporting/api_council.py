"""Support to the provincial Children's Council over HTTP: record a request of the Council, the club's
advice, and each follow-up (`services/reporting/council.py`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from services.reporting import council, store
from services.reporting.api import PeriodQ, auth, today
from shared.auth import Principal
from shared.errors import Conflict, FieldErrors, NotFound
from shared.service import runtime_of
from shared.text import NfcStr
from shared.uow import RetryingRoute, unit_of_work

router = APIRouter(prefix="/v1/council", tags=["children's council"], route_class=RetryingRoute)
Recorder = Annotated[Principal, Depends(auth.require("member", "chair", "admin"))]
Reader = Annotated[Principal, Depends(auth.require("member", "chair", "committee", "admin"))]


def _plain(value: str) -> str:
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
        raise ValueError("must not contain control characters")
    return value


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    received_on: date
    subject_vi: NfcStr = Field(
        min_length=1, max_length=2000, examples=["Đề nghị góp ý nội dung Diễn đàn trẻ em tỉnh năm 2026"]
    )

    @field_validator("subject_vi")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        return _plain(value)


class AdviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    advised_on: date
    advice_vi: NfcStr = Field(min_length=1, max_length=5000)
    advised_by: NfcStr = Field(min_length=1, max_length=300, examples=["Trần Thị Lan, Võ Thị Mai"])

    @field_validator("advice_vi", "advised_by")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        return _plain(value)


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: date
    note_vi: NfcStr = Field(min_length=1, max_length=2000)

    @field_validator("note_vi")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        return _plain(value)


class FollowUpOut(FollowUpIn):
    follow_up_id: uuid.UUID


class RequestOut(BaseModel):
    request_id: uuid.UUID
    received_on: date
    subject_vi: str
    advice_vi: str | None
    advised_on: date | None
    advised_by: str | None
    recorded_at: datetime
    follow_ups: list[FollowUpOut] = []


def _not_future(day: date, field: str, request: Request) -> None:
    if day > today(request):
        raise FieldErrors.one(field, "Cannot be in the future.", "Không được ở tương lai.", "future")


async def _locked(session: Any, request_id: uuid.UUID) -> Any:
    r = store.council_requests.c
    row = (
        await session.execute(select(store.council_requests).where(r.request_id == request_id).with_for_update())
    ).first()
    if row is None:
        raise NotFound("No such request of the Children's Council.", "Không có đề nghị này của Hội đồng trẻ em.")
    return row


async def _out(session: Any, request_id: uuid.UUID) -> RequestOut:
    r, f = store.council_requests.c, store.council_follow_ups.c
    row = (await session.execute(select(store.council_requests).where(r.request_id == request_id))).one()
    ups = await session.execute(select(store.council_follow_ups).where(f.request_id == request_id).order_by(f.on))
    return RequestOut(
        **{k: v for k, v in row._mapping.items() if k in RequestOut.model_fields},
        follow_ups=[FollowUpOut(**{k: v for k, v in u._mapping.items() if k in FollowUpOut.model_fields}) for u in ups],
    )


@router.post("/requests", response_model=RequestOut, status_code=201, summary="Record a request of the Council")
async def record_request(request: Request, body: RequestIn, principal: Recorder) -> RequestOut:
    _not_future(body.received_on, "body.received_on", request)
    async with unit_of_work(runtime_of(request)) as uow:
        request_id = uuid.uuid4()
        await uow.session.execute(
            store.council_requests.insert().values(
                request_id=request_id, recorded_by=principal.account_id, recorded_at=uow.now, **body.model_dump()
            )
        )
        return await _out(uow.session, request_id)


@router.post("/requests/{request_id}/advice", response_model=RequestOut, summary="The club's advice to the Council")
async def advise(request: Request, request_id: uuid.UUID, body: AdviceIn, _who: Recorder) -> RequestOut:
    _not_future(body.advised_on, "body.advised_on", request)
    async with unit_of_work(runtime_of(request)) as uow:
        row = await _locked(uow.session, request_id)
        if row.advised_on is not None:
            raise Conflict("The club has already advised on this request.", "Câu lạc bộ đã tư vấn đề nghị này.")
        if body.advised_on < row.received_on:
            raise FieldErrors.one(
                "body.advised_on", "Cannot be before the request.", "Không được trước ngày nhận đề nghị."
            )
        await uow.session.execute(
            store.council_requests.update()
            .where(store.council_requests.c.request_id == request_id)
            .values(**body.model_dump())
        )
        return await _out(uow.session, request_id)


@router.post(
    "/requests/{request_id}/follow-ups",
    response_model=RequestOut,
    status_code=201,
    summary="A follow-up of the club's advice (how the Council took it up)",
)
async def follow_up(request: Request, request_id: uuid.UUID, body: FollowUpIn, principal: Recorder) -> RequestOut:
    _not_future(body.on, "body.on", request)
    async with unit_of_work(runtime_of(request)) as uow:
        row = await _locked(uow.session, request_id)
        if row.advised_on is None:
            raise Conflict("Record the club's advice first.", "Cần ghi nhận ý kiến tư vấn của Câu lạc bộ trước.")
        await uow.session.execute(
            store.council_follow_ups.insert().values(
                follow_up_id=uuid.uuid4(),
                request_id=request_id,
                recorded_by=principal.account_id,
                recorded_at=uow.now,
                **body.model_dump(),
            )
        )
        return await _out(uow.session, request_id)


@router.get("/requests", response_model=list[RequestOut], summary="The Council's requests of a period")
async def list_requests(request: Request, _who: Reader, period: PeriodQ) -> list[RequestOut]:
    async with runtime_of(request).sessions() as session:
        rows = await council.requests(session, period)
    return [
        RequestOut(
            **{k: v for k, v in r.items() if k in RequestOut.model_fields and k != "follow_ups"},
            follow_ups=[
                FollowUpOut(**{k: v for k, v in u.items() if k in FollowUpOut.model_fields}) for u in r["follow_ups"]
            ],
        )
        for r in rows
    ]
