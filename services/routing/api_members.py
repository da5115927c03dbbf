"""The member registry over HTTP: the chair (or an admin) manages it; the committee and operators read it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from services.routing import store
from services.routing.answers import member_goes_on_leave, release_if_unavailable
from services.routing.api import auth
from services.routing.registry import LeavePeriod, MemberIn, upsert_member
from shared.auth import Principal
from shared.errors import Conflict, NotFound
from shared.service import runtime_of
from shared.uow import RetryingRoute, unit_of_work

router = APIRouter(prefix="/v1/members", tags=["members"], route_class=RetryingRoute)
Manager = Annotated[Principal, Depends(auth.require("chair", "admin"))]
Reader = Annotated[Principal, Depends(auth.require("chair", "committee", "operator", "admin"))]


class MemberOut(MemberIn):
    member_id: uuid.UUID


async def _load(session, member_ids: list[uuid.UUID] | None = None) -> list[MemberOut]:
    query = select(store.members).order_by(store.members.c.key)
    if member_ids is not None:
        query = query.where(store.members.c.member_id.in_(member_ids))
    rows = list(await session.execute(query))
    leaves: dict[uuid.UUID, list[LeavePeriod]] = {}
    for leave in await session.execute(select(store.leaves).order_by(store.leaves.c.starts_on)):
        leaves.setdefault(leave.member_id, []).append(LeavePeriod(starts_on=leave.starts_on, ends_on=leave.ends_on))
    return [
        MemberOut.model_validate(
            {k: tuple(v) if isinstance(v, list) else v for k, v in row._mapping.items() if k in MemberOut.model_fields}
            | {"leave_periods": tuple(leaves.get(row.member_id, ()))}
        )
        for row in rows
    ]


@router.get("", response_model=list[MemberOut], summary="The club's members")
async def list_members(request: Request, _reader: Reader) -> list[MemberOut]:
    async with runtime_of(request).sessions() as session:
        return await _load(session)


@router.get("/{member_id}", response_model=MemberOut, summary="One member")
async def get_member(request: Request, member_id: uuid.UUID, _reader: Reader) -> MemberOut:
    async with runtime_of(request).sessions() as session:
        found = await _load(session, [member_id])
    if not found:
        raise NotFound("No such member.", "Không tìm thấy thành viên.")
    return found[0]


@router.post("", response_model=MemberOut, status_code=201, summary="Add a member")
async def add_member(request: Request, body: MemberIn, _manager: Manager) -> MemberOut:
    async with unit_of_work(runtime_of(request)) as fx:
        taken = (
            await fx.session.execute(select(store.members.c.member_id).where(store.members.c.key == body.key))
        ).first()
        if taken is not None:
            raise Conflict(
                f"A member with key '{body.key}' exists; PUT /v1/members/{taken.member_id} changes it.",
                f"Đã có thành viên với khóa '{body.key}'; dùng PUT /v1/members/{taken.member_id} để sửa.",
            )
        member_id = await upsert_member(fx.session, body)
        return (await _load(fx.session, [member_id]))[0]


@router.put("/{member_id}", response_model=MemberOut, summary="Replace a member's record")
async def replace_member(request: Request, member_id: uuid.UUID, body: MemberIn, _manager: Manager) -> MemberOut:
    async with unit_of_work(runtime_of(request)) as fx:
        row = (
            await fx.session.execute(
                select(store.members).where(store.members.c.member_id == member_id).with_for_update()
            )
        ).first()
        if row is None:
            raise NotFound("No such member.", "Không tìm thấy thành viên.")
        if row.key != body.key:
            raise Conflict("A member's key cannot change.", "Không thể đổi khóa của thành viên.")
        await upsert_member(fx.session, body)
        await release_if_unavailable(fx, member_id)  # a new leave or an ended active period hands cases over
        return (await _load(fx.session, [member_id]))[0]


@router.post("/{member_id}/leaves", response_model=MemberOut, status_code=201, summary="Record a leave")
async def add_leave(request: Request, member_id: uuid.UUID, body: LeavePeriod, _manager: Manager) -> MemberOut:
    """A leave that has begun hands the member's open assignments to the next candidates at once."""
    async with unit_of_work(runtime_of(request)) as fx:
        exists = (
            await fx.session.execute(select(store.members.c.member_id).where(store.members.c.member_id == member_id))
        ).first()
        if exists is None:
            raise NotFound("No such member.", "Không tìm thấy thành viên.")
        await member_goes_on_leave(fx, member_id, body.starts_on, body.ends_on)
        return (await _load(fx.session, [member_id]))[0]
