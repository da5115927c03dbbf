"""What the club writes for its reviews: strengths and limitations (đánh giá), lessons (bài học kinh nghiệm)
and recommendations (kiến nghị, đề xuất), by year. The annual, 3-year and 5-year reviews print the notes of
their years (`club_sections.assessment_sections`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from services.reporting import store
from services.reporting.api import PeriodQ, auth
from shared.auth import Principal
from shared.service import runtime_of
from shared.text import NfcStr
from shared.uow import unit_of_work

router = APIRouter(prefix="/v1/reviews/notes", tags=["reviews"])
Recorder = Annotated[Principal, Depends(auth.require("chair", "admin"))]
Reader = Annotated[Principal, Depends(auth.require("chair", "committee", "admin"))]
Section = Literal["strength", "limitation", "lesson", "recommendation"]


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2023, le=2100)
    section: Section = Field(
        description="strength (ưu điểm), limitation (hạn chế, nguyên nhân), lesson (bài học kinh nghiệm), "
        "recommendation (kiến nghị, đề xuất)"
    )
    text_vi: NfcStr = Field(min_length=1, max_length=3000)

    @field_validator("text_vi")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
            raise ValueError("must not contain control characters")
        return value


class NoteOut(NoteIn):
    note_id: uuid.UUID
    recorded_at: datetime


@router.post("", response_model=NoteOut, status_code=201, summary="Record a note for the reviews of a year")
async def record(request: Request, body: NoteIn, principal: Recorder) -> NoteOut:
    async with unit_of_work(runtime_of(request)) as uow:
        row = dict(note_id=uuid.uuid4(), recorded_by=principal.account_id, recorded_at=uow.now, **body.model_dump())
        await uow.session.execute(store.review_notes.insert().values(**row))
    return NoteOut(**{k: v for k, v in row.items() if k != "recorded_by"})


@router.get("", response_model=list[NoteOut], summary="The notes of the years a period covers")
async def list_notes(request: Request, _who: Reader, period: PeriodQ) -> list[NoteOut]:
    n = store.review_notes.c
    years = period.years()
    async with runtime_of(request).sessions() as session:
        rows = await session.execute(
            select(n.note_id, n.year, n.section, n.text_vi, n.recorded_at)
            .where(n.year.between(years[0], years[-1]))
            .order_by(n.year, n.recorded_at)
        )
        return [NoteOut(**row._mapping) for row in rows]
