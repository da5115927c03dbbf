"""Units as reporting sees them: which Youth Unions monthly reminders cannot reach (no email, no Zalo)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from services.reporting import figures
from services.reporting.api import auth, today
from shared.auth import Principal
from shared.service import runtime_of
from shared.text import youth_union

router = APIRouter(prefix="/v1/units", tags=["units"])
Operator = Annotated[Principal, Depends(auth.require("operator", "admin", "chair"))]


class UnitWithoutContact(BaseModel):
    code: str
    name_vi: str
    kind: str
    addressee_vi: str  # "Ban Thường vụ Đoàn xã Bến Cầu": whom the operator has to ask for a contact


@router.get(
    "/without-contact",
    response_model=list[UnitWithoutContact],
    summary="Operator: units valid today whose Youth Union has neither an email nor a Zalo contact",
)
async def without_contact(request: Request, _who: Operator) -> list[UnitWithoutContact]:
    async with runtime_of(request).sessions() as session:
        rows = await figures.units_without_contact(session, today(request))
    return [UnitWithoutContact(**row, addressee_vi=youth_union(row["name_vi"])) for row in rows]
