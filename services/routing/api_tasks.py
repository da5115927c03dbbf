"""Tasks the provincial Standing Committee assigns to the club: a committee member creates one, it is
routed to members by field like a case (`services/routing/tasks.py`), each assignee reports their part.
A task has no child data: the body refuses any field it does not name."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store, tasks
from services.routing.deadlines import VN
from shared.auth import Authenticator, Principal
from shared.errors import Conflict, FieldErrors, Forbidden, NotFound
from shared.events.base import ExpertField
from shared.service import runtime_of
from shared.text import NfcStr
from shared.uow import RetryingRoute, unit_of_work

auth = Authenticator(store.credentials)
router = APIRouter(prefix="/v1/tasks", tags=["tasks"], route_class=RetryingRoute)
Committee = Annotated[Principal, Depends(auth.require("committee", "admin"))]
Reader = Annotated[Principal, Depends(auth.require("committee", "chair", "admin", "member"))]
Member = Annotated[Principal, Depends(auth.require("member"))]


def _plain(value: str) -> str:
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
        raise ValueError("must not contain control characters")
    return value


class TaskIn(BaseModel):
    """What the Standing Committee asks of the club. No child data: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    title_vi: NfcStr = Field(
        min_length=1, max_length=300, examples=["Góp ý dự thảo Kế hoạch Tháng hành động vì trẻ em"]
    )
    details_vi: NfcStr = Field(default="", max_length=5000)
    fields: list[ExpertField] = Field(min_length=1, max_length=5, description="Fields of expertise the task needs")
    unit: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,99}$", description="Commune/ward, if any")
    due_on: date

    @field_validator("title_vi", "details_vi")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        return _plain(value)

    @field_validator("fields")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report_vi: NfcStr = Field(min_length=1, max_length=5000, description="What the member did")

    @field_validator("report_vi")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        return _plain(value)


class AssigneeOut(BaseModel):
    field: str
    member_id: uuid.UUID
    display_name: str
    reported_at: datetime | None
    report_vi: str | None


class TaskOut(BaseModel):
    task_id: uuid.UUID
    code: str
    title_vi: str
    details_vi: str
    fields: list[str]
    unit: str | None
    due_on: date
    status: str
    created_at: datetime
    completed_at: datetime | None
    assignees: list[AssigneeOut]
    missing_fields: list[str]


async def _out(session: AsyncSession, row) -> TaskOut:
    ta, m = store.task_assignments.c, store.members.c
    parts = (
        await session.execute(
            select(ta.field, ta.member_id, m.display_name, ta.reported_at, ta.report_vi)
            .join(store.members, m.member_id == ta.member_id)
            .where(ta.task_id == row.task_id)
            .order_by(ta.field)
        )
    ).all()
    given = {p.field for p in parts}
    return TaskOut(
        task_id=row.task_id,
        code=row.code,
        title_vi=row.title_vi,
        details_vi=row.details_vi,
        fields=list(row.fields),
        unit=row.unit,
        due_on=row.due_on,
        status=row.status,
        created_at=row.created_at,
        completed_at=row.completed_at,
        assignees=[AssigneeOut(**p._mapping) for p in parts],
        missing_fields=[f for f in row.fields if f not in given],
    )


async def _task(session: AsyncSession, task_id: uuid.UUID, *, lock: bool = False):
    query = select(store.tasks).where(store.tasks.c.task_id == task_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise NotFound("No such task.", "Không có nhiệm vụ này.")
    return row


async def _assigned_to(session: AsyncSession, task_id: uuid.UUID, member_id: uuid.UUID | None):
    ta = store.task_assignments.c
    return (
        await session.execute(select(store.task_assignments).where(ta.task_id == task_id, ta.member_id == member_id))
    ).first()


@router.post("", response_model=TaskOut, status_code=201, summary="Standing Committee: assign the club a task")
async def create(request: Request, body: TaskIn, principal: Committee) -> TaskOut:
    async with unit_of_work(runtime_of(request)) as fx:
        if body.due_on < fx.now.astimezone(VN).date():
            raise FieldErrors.one(
                "body.due_on", "The deadline cannot be in the past.", "Hạn hoàn thành không được trước hôm nay.", "past"
            )
        task_id = await tasks.create_task(
            fx,
            title_vi=body.title_vi,
            details_vi=body.details_vi,
            fields=list(body.fields),
            unit=body.unit,
            due_on=body.due_on,
            created_by=principal.account_id,
        )
        return await _out(fx.session, await _task(fx.session, task_id))


@router.get("", response_model=list[TaskOut], summary="Tasks (a member sees the ones given to them)")
async def list_tasks(request: Request, principal: Reader) -> list[TaskOut]:
    t = store.tasks.c
    query = select(store.tasks).order_by(t.created_at.desc(), t.code.desc())
    if principal.role == "member":
        ta = store.task_assignments.c
        query = query.where(t.task_id.in_(select(ta.task_id).where(ta.member_id == principal.member_id)))
    async with runtime_of(request).sessions() as session:
        return [await _out(session, row) for row in await session.execute(query)]


@router.get("/{task_id}", response_model=TaskOut, summary="One task with its assignees and their reports")
async def get_task(request: Request, task_id: uuid.UUID, principal: Reader) -> TaskOut:
    async with runtime_of(request).sessions() as session:
        row = await _task(session, task_id)
        if principal.role == "member" and await _assigned_to(session, task_id, principal.member_id) is None:
            raise Forbidden("This task was not given to you.", "Đồng chí không được giao nhiệm vụ này.")
        return await _out(session, row)


@router.post("/{task_id}/report", response_model=TaskOut, summary="Assignee: report your part of the task done")
async def report(request: Request, task_id: uuid.UUID, body: ReportIn, principal: Member) -> TaskOut:
    async with unit_of_work(runtime_of(request)) as fx:
        row = await _task(fx.session, task_id, lock=True)
        part = await _assigned_to(fx.session, task_id, principal.member_id)
        if part is None:
            raise Forbidden("This task was not given to you.", "Đồng chí không được giao nhiệm vụ này.")
        if part.reported_at is not None:
            raise Conflict("You already reported your part.", "Đồng chí đã báo cáo phần việc của mình.")
        assert principal.member_id is not None
        await tasks.report_part(fx, row, principal.member_id, body.report_vi)
        return await _out(fx.session, await _task(fx.session, task_id))
