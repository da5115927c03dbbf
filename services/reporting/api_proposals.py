"""Members' opinions and proposals to the Standing Committee: recording them, and the quarterly
compilation as DOCX (`services/reporting/compilation.py`), beside the per-case forwarding."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from services.reporting import store
from services.reporting.api import DOCX, auth, today
from services.reporting.domain import parse_period
from shared.auth import Principal
from shared.errors import FieldErrors
from shared.service import runtime_of
from shared.text import NfcStr
from shared.uow import unit_of_work

router = APIRouter(prefix="/v1/proposals", tags=["proposals"])
Recorder = Annotated[Principal, Depends(auth.require("member", "chair", "admin"))]
Reader = Annotated[Principal, Depends(auth.require("chair", "committee", "admin"))]
QUARTER = re.compile(r"^[0-9]{4}-Q[1-4]$")


def _plain(value: str) -> str:
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
        raise ValueError("must not contain control characters")
    return value


class ProposalIn(BaseModel):
    """A member's opinion or proposal not tied to one case (no child data)."""

    model_config = ConfigDict(extra="forbid")

    submitted_on: date | None = Field(default=None, description="Default today")
    topic_vi: NfcStr = Field(min_length=1, max_length=200, examples=["Phòng, chống xâm hại trẻ em trên mạng"])
    text_vi: NfcStr = Field(min_length=1, max_length=5000)
    proposed_by: NfcStr = Field(min_length=1, max_length=300, examples=["Lê Quang Minh (Sở Tư pháp)"])

    @field_validator("topic_vi", "text_vi", "proposed_by")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        return _plain(value)


class ProposalOut(BaseModel):
    proposal_id: uuid.UUID
    submitted_on: date
    topic_vi: str
    text_vi: str
    proposed_by: str
    recorded_at: datetime


@router.post("", response_model=ProposalOut, status_code=201, summary="Record a member's opinion or proposal")
async def record(request: Request, body: ProposalIn, principal: Recorder) -> ProposalOut:
    day = today(request)
    if body.submitted_on is not None and body.submitted_on > day:
        raise FieldErrors.one("body.submitted_on", "Cannot be in the future.", "Không được ở tương lai.", "future")
    async with unit_of_work(runtime_of(request)) as uow:
        row = dict(
            proposal_id=uuid.uuid4(),
            submitted_on=body.submitted_on or day,
            topic_vi=body.topic_vi,
            text_vi=body.text_vi,
            proposed_by=body.proposed_by,
            recorded_by=principal.account_id,
            recorded_at=uow.now,
        )
        await uow.session.execute(store.proposals.insert().values(**row))
    return ProposalOut(**{k: v for k, v in row.items() if k != "recorded_by"})


def _quarter(quarter: str) -> str:
    if not QUARTER.fullmatch(quarter):
        raise FieldErrors.one(
            "query.quarter", "A quarter such as 2026-Q4.", "Kỳ tổng hợp là một quý, ví dụ 2026-Q4.", "quarter"
        )
    return quarter


Quarter = Annotated[str, Query(max_length=7, description="2026-Q4", examples=["2026-Q4"])]


@router.get("", response_model=list[ProposalOut], summary="Proposals of a quarter")
async def list_proposals(request: Request, _who: Reader, quarter: Quarter) -> list[ProposalOut]:
    period = parse_period(_quarter(quarter))
    p = store.proposals.c
    async with runtime_of(request).sessions() as session:
        rows = await session.execute(
            select(p.proposal_id, p.submitted_on, p.topic_vi, p.text_vi, p.proposed_by, p.recorded_at)
            .where(p.submitted_on >= period.start, p.submitted_on <= period.end)
            .order_by(p.submitted_on, p.recorded_at)
        )
        return [ProposalOut(**row._mapping) for row in rows]


@router.get(
    "/compilation",
    summary="The quarter's compilation of members' opinions and proposals to the Standing Committee (DOCX)",
    response_class=Response,
    responses={200: {"content": {DOCX: {}}}},
)
async def compilation_docx(
    request: Request,
    _who: Reader,
    quarter: Quarter,
    number: Annotated[str, Query(max_length=12, pattern=r"^[0-9 ]*$", description="Document number (Số)")] = "    ",
) -> Response:
    from services.reporting import compilation, documents  # python-docx only once a document is asked for

    period = parse_period(_quarter(quarter))
    runtime = runtime_of(request)
    async with runtime.sessions() as session:
        data = await compilation.gather(
            session, period, today(request), number, compilation.ClubSigning.of(runtime.settings)
        )
    body = documents.to_bytes(compilation.render_compilation(data))
    return Response(
        body,
        media_type=DOCX,
        headers={"Content-Disposition": f'attachment; filename="tong-hop-de-xuat-{quarter}.docx"'},
    )
