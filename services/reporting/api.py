"""Reporting's HTTP API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from services.reporting import store
from shared.auth import Authenticator, Principal
from shared.service import runtime_of

router = APIRouter(prefix="/v1/reports", tags=["reports"])
auth = Authenticator(store.credentials)
Reader = Annotated[Principal, Depends(auth.require("chair", "committee", "operator", "admin"))]


class CountRow(BaseModel):
    unit: str
    category: str
    status: str
    cases: int


class MonthlyReport(BaseModel):
    period: str
    total: int
    rows: list[CountRow]


@router.get("/monthly", response_model=MonthlyReport, summary="Cases of one month by unit, category and status")
async def monthly(
    request: Request,
    _principal: Reader,
    period: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])],
) -> MonthlyReport:
    c = store.cases.c
    async with runtime_of(request).sessions() as session:
        result = await session.execute(
            select(c.unit, c.category, c.status, func.count().label("cases"))
            .where(c.period == period)
            .group_by(c.unit, c.category, c.status)
            .order_by(c.unit, c.category, c.status)
        )
        rows = [CountRow(**row._mapping) for row in result]
    return MonthlyReport(period=period, total=sum(r.cases for r in rows), rows=rows)
