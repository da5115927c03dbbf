"""Importing members from a CSV over HTTP (chair or admin): a preview of what would change, row by row
and field by field, then the same request with `apply` writes it, all rows in one transaction, or
nothing at all when any row has an error."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from services.routing import store
from services.routing.answers import release_if_unavailable
from services.routing.api import auth
from services.routing.api_members import _load
from services.routing.member_import import ImportRow, RowError, compare, read
from services.routing.registry import MemberIn, upsert_member
from shared.auth import Principal
from shared.errors import FieldErrors
from shared.service import runtime_of
from shared.uow import RetryingRoute, unit_of_work

router = APIRouter(prefix="/v1/chair", tags=["chair"], route_class=RetryingRoute)
Manager = Annotated[Principal, Depends(auth.require("chair", "admin"))]
MAX_CSV = 1_000_000


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    csv: Annotated[str, Field(min_length=1, max_length=MAX_CSV, description="The CSV text (UTF-8).")]
    apply: bool = Field(default=False, description="Write the changes; without it, only the preview.")


class ErrorOut(BaseModel):
    field: str
    message: dict[str, str]


class ChangeOut(BaseModel):
    field: str
    old: Any
    new: Any


class RowOut(BaseModel):
    line: int
    key: str
    display_name: str
    status: str = Field(description="added | changed | unchanged | error")
    changes: list[ChangeOut]
    errors: list[ErrorOut]


class ImportOut(BaseModel):
    applied: bool
    counts: dict[str, int]
    rows: list[RowOut]


def _out(rows: list[ImportRow], applied: bool) -> ImportOut:
    counts = {status: 0 for status in ("added", "changed", "unchanged", "error")}
    for row in rows:
        counts[row.status] += 1
    return ImportOut(
        applied=applied,
        counts=counts,
        rows=[
            RowOut(
                line=row.line,
                key=row.key,
                display_name=row.display_name,
                status=row.status,
                changes=[ChangeOut(field=f, old=old, new=new) for f, old, new in row.changes],
                errors=[ErrorOut(field=e.field, message={"vi": e.vi, "en": e.en}) for e in row.errors],
            )
            for row in rows
        ],
    )


def _refuse(errors: list[tuple[str, RowError]]) -> FieldErrors:
    return FieldErrors(*((where, e.en, e.vi) for where, e in errors))


@router.post("/members/import", response_model=ImportOut, summary="Preview, or apply, a member CSV")
async def import_members(request: Request, body: ImportIn, _manager: Manager) -> ImportOut:
    rows, problems = read(body.csv)
    if problems:
        raise _refuse([("body.csv", e) for e in problems])
    async with unit_of_work(runtime_of(request)) as fx:
        await fx.session.execute(select(store.members.c.member_id).with_for_update())  # one import at a time
        registry = {
            m.key: MemberIn.model_validate(m.model_dump(exclude={"member_id"})) for m in await _load(fx.session)
        }
        compare(rows, registry)
        if not body.apply:
            return _out(rows, False)
        bad = [(f"body.rows.{row.line}.{e.field}", e) for row in rows for e in row.errors]
        if bad:
            raise _refuse(bad)
        for row in rows:
            if row.status in ("added", "changed") and row.member is not None:
                member_id = await upsert_member(fx.session, row.member)
                await release_if_unavailable(fx, member_id)  # a new leave hands the member's cases over
    return _out(rows, True)
