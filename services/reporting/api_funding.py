"""The club's funding over HTTP: record an income or a spending with its receipt, correct an entry with
a new one, read the figures of a period, export them as XLSX. No PUT, no DELETE (`funding.py`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from services.reporting import exports, funding, store
from services.reporting.api import XLSX, PeriodQ, auth, today
from shared.auth import Principal
from shared.errors import Conflict, FieldErrors, NotFound
from shared.service import runtime_of
from shared.text import NfcStr
from shared.uow import RetryingRoute, unit_of_work

router = APIRouter(prefix="/v1/funding", tags=["funding"], route_class=RetryingRoute)
Recorder = Annotated[Principal, Depends(auth.require("chair", "admin"))]
Reader = Annotated[Principal, Depends(auth.require("chair", "committee", "admin"))]
MAX_AMOUNT = 1_000_000_000_000  # one trillion đồng: far above anything the club handles; catches typos


def _plain(value: str) -> str:
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
        raise ValueError("must not contain control characters")
    return value


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry_on: date
    direction: Literal["income", "expense"]
    category: str = Field(
        description="income: provincial_support, member_contributions, sponsor, project_fund, other_income; "
        "expense: thematic_programme, meeting, training, child_support, other_expense"
    )
    amount: int = Field(gt=0, le=MAX_AMOUNT, description="Đồng, an integer")
    receipt_ref: NfcStr = Field(min_length=1, max_length=100, description="Số phiếu thu/chi, hóa đơn, chứng từ")
    description_vi: NfcStr = Field(min_length=1, max_length=1000)
    plan_activity_id: uuid.UUID | None = None

    @field_validator("receipt_ref", "description_vi")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        return _plain(value)


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry_on: date
    amount: int = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="The signed difference in đồng, not zero")
    receipt_ref: NfcStr = Field(min_length=1, max_length=100)
    description_vi: NfcStr = Field(min_length=1, max_length=1000, description="Why it is corrected")

    @field_validator("receipt_ref", "description_vi")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        return _plain(value)


class EntryOut(BaseModel):
    entry_id: uuid.UUID
    entry_on: date
    direction: str
    category: str
    category_vi: str
    amount: int
    receipt_ref: str
    description_vi: str
    corrects: uuid.UUID | None
    plan_activity_id: uuid.UUID | None
    recorded_at: datetime


def _out(row: dict[str, Any]) -> EntryOut:
    return EntryOut(
        **{k: row[k] for k in EntryOut.model_fields if k in row and k != "category_vi"},
        category_vi=funding.category_name(row["direction"], row["category"]),
    )


def _not_future(day: date, field: str, request: Request) -> None:
    if day > today(request):
        raise FieldErrors.one(field, "Cannot be in the future.", "Không được ở tương lai.", "future")


@router.post("/entries", response_model=EntryOut, status_code=201, summary="Record an income or a spending")
async def record(request: Request, body: EntryIn, principal: Recorder) -> EntryOut:
    names = funding.SOURCES if body.direction == "income" else funding.ACTIVITIES
    if body.category not in names:
        kind_vi = "Nguồn thu" if body.direction == "income" else "Nội dung chi"
        raise FieldErrors.one(
            "body.category",
            f"Must be one of: {', '.join(names)}.",
            f"{kind_vi} phải là một trong: {', '.join(names.values())}.",
        )
    _not_future(body.entry_on, "body.entry_on", request)
    async with unit_of_work(runtime_of(request)) as uow:
        if body.plan_activity_id is not None:
            a = store.plan_activities.c
            held = await uow.session.execute(select(a.activity_id).where(a.activity_id == body.plan_activity_id))
            if held.first() is None:
                raise FieldErrors.one(
                    "body.plan_activity_id", "No such activity.", "Không có hoạt động này trong Kế hoạch."
                )
        row = dict(entry_id=uuid.uuid4(), recorded_by=principal.account_id, recorded_at=uow.now, corrects=None)
        row |= body.model_dump()
        await uow.session.execute(store.funding_entries.insert().values(**row))
    return _out(row)


@router.post(
    "/entries/{entry_id}/corrections",
    response_model=EntryOut,
    status_code=201,
    summary="Correct an entry with a new one (the signed difference); entries are never changed or deleted",
)
async def correct(request: Request, entry_id: uuid.UUID, body: CorrectionIn, principal: Recorder) -> EntryOut:
    if body.amount == 0:
        raise FieldErrors.one("body.amount", "A correction changes the amount.", "Số tiền điều chỉnh phải khác 0.")
    _not_future(body.entry_on, "body.entry_on", request)
    async with unit_of_work(runtime_of(request)) as uow:
        f = store.funding_entries.c
        # the original's row lock orders concurrent corrections of the same entry
        original = (
            await uow.session.execute(
                select(store.funding_entries).where(f.entry_id == entry_id).with_for_update(key_share=True)
            )
        ).first()
        if original is None:
            raise NotFound("No such entry.", "Không có khoản thu chi này.")
        if original.corrects is not None:
            raise Conflict(
                "Correct the original entry, not a correction.",
                "Hãy điều chỉnh khoản thu chi gốc, không điều chỉnh một khoản điều chỉnh.",
            )
        if await funding.net_of(uow.session, entry_id) + body.amount < 0:
            raise FieldErrors.one(
                "body.amount", "The corrected amount cannot be negative.", "Số tiền sau điều chỉnh không được âm."
            )
        row = dict(
            entry_id=uuid.uuid4(),
            direction=original.direction,
            category=original.category,
            corrects=entry_id,
            plan_activity_id=original.plan_activity_id,
            recorded_by=principal.account_id,
            recorded_at=uow.now,
            **body.model_dump(),
        )
        await uow.session.execute(store.funding_entries.insert().values(**row))
    return _out(row)


@router.get("", summary="Income by source, spending by activity and the balance of a period, with its entries")
async def figures(request: Request, _who: Reader, period: PeriodQ) -> dict[str, Any]:
    async with runtime_of(request).sessions() as session:
        total = await funding.summary(session, period)
        ledger = await funding.entries(session, period)
    return total | {"entries": [_out(e).model_dump(mode="json") for e in ledger]}


@router.get(
    "/export",
    summary="The funding summary and ledger of a period as XLSX",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def export(request: Request, _who: Reader, period: PeriodQ) -> Response:
    async with runtime_of(request).sessions() as session:
        sheets = funding.sheets(await funding.summary(session, period), await funding.entries(session, period))
    stem = f"kinh-phi-{period.label.replace('..', '_')}"
    return Response(
        exports.to_xlsx(sheets), media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'}
    )
