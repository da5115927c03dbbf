"""Administration over HTTP: accounts and credentials, units, categories (reference data at run time)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy import select

from services.intake import accounts, domain, reference, signin, store
from services.intake.api_cases import auth
from services.intake.context import intake_context
from services.intake.schemas import (
    AccountIn,
    AccountOut,
    CategoryIn,
    CategoryOut,
    CredentialIn,
    IssuedOut,
    SpecialCircumstanceOut,
    UnitIn,
    UnitOut,
)
from services.intake.signin_schemas import InvitedOut
from shared.auth import Principal
from shared.errors import FieldErrors, NotFound
from shared.http_errors import problems
from shared.service import runtime_of
from shared.uow import unit_of_work

router = APIRouter(tags=["admin"])
Admin = Annotated[Principal, Depends(auth.require("admin"))]
Anyone = Annotated[Principal, Depends(auth.require())]
CategoryCode = Annotated[str, Path(pattern=r"^[a-z0-9_][a-z0-9_-]{0,63}$")]
UnitCodePath = Annotated[str, Path(pattern=domain.UNIT_PATTERN)]


def _issued(issued: accounts.Issued) -> IssuedOut:
    return IssuedOut(**issued.__dict__)


@router.post(
    "/v1/accounts",
    status_code=201,
    response_model=IssuedOut | InvitedOut,
    summary="Create an account: with `email`, a person invited by email (no token); without, a first credential",
    responses=problems(401, 403, 413, 415),
)
async def create_account(body: AccountIn, request: Request, _admin: Admin) -> IssuedOut | InvitedOut:
    runtime = runtime_of(request)
    if body.email is not None:
        async with unit_of_work(runtime) as uow:
            session = uow.session
            account_id = await accounts.insert_account(
                session,
                role=body.role,
                name=body.name,
                unit=body.unit,  # type: ignore[arg-type]
                member_id=body.member_id,
                email=body.email,
                now=runtime.clock.now(),
            )
            link = await signin.issue_link(
                session,
                runtime.outbox,  # type: ignore[arg-type]
                intake_context(request).settings,
                account_id,
                "invitation",
                now=runtime.clock.now(),
            )
            row = (await session.execute(select(store.accounts).where(store.accounts.c.id == account_id))).one()
        return InvitedOut(
            account_id=account_id,
            role=row.role,
            unit=row.unit,
            member_id=row.member_id,
            email=body.email,
            invitation_expires_at=link.expires_at,
        )
    async with unit_of_work(runtime) as uow:
        session = uow.session
        issued = await accounts.create_account(
            session,
            runtime.outbox,
            role=body.role,
            name=body.name,
            unit=body.unit,  # type: ignore[arg-type]
            member_id=body.member_id,
            expires_days=body.expires_days,
            now=runtime.clock.now(),
        )
    return _issued(issued)


@router.get(
    "/v1/accounts",
    response_model=list[AccountOut],
    summary="Accounts and their credentials (no secrets)",
    responses=problems(401, 403),
)
async def list_accounts(request: Request, _admin: Admin) -> list[AccountOut]:
    async with runtime_of(request).sessions() as session:
        return [AccountOut.model_validate(a) for a in await accounts.list_accounts(session)]


@router.post(
    "/v1/accounts/{account_id}/credentials",
    status_code=201,
    response_model=IssuedOut,
    summary="Issue another credential for an account",
    responses=problems(401, 403, 404, 413, 415),
)
async def issue_credential(account_id: uuid.UUID, body: CredentialIn, request: Request, _admin: Admin) -> IssuedOut:
    runtime = runtime_of(request)
    async with unit_of_work(runtime) as uow:
        session = uow.session
        exists = (await session.execute(select(store.accounts.c.id).where(store.accounts.c.id == account_id))).first()
        if exists is None:
            raise NotFound("No such account.", "Không tìm thấy tài khoản.")
        issued = await accounts.issue_credential(
            session,
            runtime.outbox,
            account_id,
            now=runtime.clock.now(),
            expires_days=body.expires_days,  # type: ignore[arg-type]
        )
    return _issued(issued)


@router.delete(
    "/v1/credentials/{key_id}",
    status_code=204,
    summary="Revoke a credential (every service stops accepting it)",
    responses=problems(401, 403, 404),
)
async def revoke_credential(
    key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{1,32}$")], request: Request, _admin: Admin
) -> Response:
    runtime = runtime_of(request)
    async with unit_of_work(runtime) as uow:
        session = uow.session
        if not await accounts.revoke(session, runtime.outbox, key_id, now=runtime.clock.now()):  # type: ignore[arg-type]
            raise NotFound("No such credential.", "Không tìm thấy mã truy cập.")
    auth.forget(key_id)  # committed: refused from the next request on, whatever the cache held
    return Response(status_code=204)


async def _unit_out(session, code: str) -> UnitOut | None:
    row = (await session.execute(select(store.units).where(store.units.c.code == code))).first()
    if row is None:
        return None
    successors = (
        (
            await session.execute(
                select(store.unit_successors.c.new_unit).where(store.unit_successors.c.old_unit == code)
            )
        )
        .scalars()
        .all()
    )
    return UnitOut(
        code=row.code,
        name_vi=row.name_vi,
        kind=row.kind,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        successors=sorted(successors),
        contact_email=row.contact_email,
        contact_zalo_user_id=row.contact_zalo_user_id,
    )


@router.get(
    "/v1/units",
    response_model=list[UnitOut],
    tags=["reference"],
    summary="Reporting units with validity and successors",
    responses=problems(401),
)
async def list_units(request: Request, _who: Anyone) -> list[UnitOut]:
    async with runtime_of(request).sessions() as session:
        units = (await session.execute(select(store.units).order_by(store.units.c.code))).all()
        links = (await session.execute(select(store.unit_successors))).all()
    successors: dict[str, list[str]] = {}
    for link in links:
        successors.setdefault(link.old_unit, []).append(link.new_unit)
    return [
        UnitOut(
            code=u.code,
            name_vi=u.name_vi,
            kind=u.kind,
            valid_from=u.valid_from,
            valid_to=u.valid_to,
            successors=sorted(successors.get(u.code, [])),
            contact_email=u.contact_email,
            contact_zalo_user_id=u.contact_zalo_user_id,
        )
        for u in units
    ]


@router.put(
    "/v1/units/{code}",
    response_model=UnitOut,
    summary="Add or change a unit (validity, successors)",
    responses=problems(401, 403, 413, 415),
)
async def put_unit(code: UnitCodePath, body: UnitIn, request: Request, _admin: Admin) -> UnitOut:
    if body.valid_from and body.valid_to and body.valid_from > body.valid_to:
        raise FieldErrors.one("body.valid_to", "Must not be before valid_from.", "Không được trước ngày bắt đầu.")
    if code in body.successors:
        raise FieldErrors.one("body.successors", "A unit cannot succeed itself.", "Đơn vị không thể kế thừa chính nó.")
    runtime = runtime_of(request)
    async with unit_of_work(runtime) as uow:
        session = uow.session
        if body.successors:
            known = set(
                (
                    await session.execute(select(store.units.c.code).where(store.units.c.code.in_(body.successors)))
                ).scalars()
            )
            unknown = sorted(set(body.successors) - known)
            if unknown:
                raise FieldErrors.one(
                    "body.successors",
                    f"Unknown units: {', '.join(unknown)}.",
                    f"Không có đơn vị: {', '.join(unknown)}.",
                )
        await reference.upsert_unit(
            session,
            runtime.outbox,  # type: ignore[arg-type]
            reference.Unit(
                code,
                body.name_vi,
                body.kind,
                body.valid_from,
                body.valid_to,
                tuple(body.successors),
                body.contact_email,
                contact_zalo_user_id=body.contact_zalo_user_id,
            ),
        )
        out = await _unit_out(session, code)
    intake_context(request).reference.invalidate()  # committed: the next case sees the change
    assert out is not None
    return out


@router.get(
    "/v1/categories", response_model=list[CategoryOut], tags=["reference"], summary="The case taxonomy (public)"
)
async def list_categories(request: Request) -> list[CategoryOut]:
    async with runtime_of(request).sessions() as session:
        rows = (await session.execute(select(store.categories).order_by(store.categories.c.code))).all()
    return [
        CategoryOut(
            code=r.code,
            name_vi=r.name_vi,
            name_en=r.name_en,
            fields=list(r.fields),
            suggested_urgency=r.suggested_urgency,
            active=r.active,
        )
        for r in rows
    ]


@router.put(
    "/v1/categories/{code}",
    response_model=CategoryOut,
    summary="Add or change a case category",
    responses=problems(401, 403, 413, 415),
)
async def put_category(code: CategoryCode, body: CategoryIn, request: Request, _admin: Admin) -> CategoryOut:
    runtime = runtime_of(request)
    async with unit_of_work(runtime) as uow:
        session = uow.session
        await reference.upsert_category(
            session,
            runtime.outbox,  # type: ignore[arg-type]
            reference.Category(
                code, body.name_vi, body.name_en, tuple(body.fields), body.suggested_urgency, None, body.active
            ),
        )
    intake_context(request).reference.invalidate()  # committed: the next case sees the change
    return CategoryOut(
        code=code,
        name_vi=body.name_vi,
        name_en=body.name_en,
        fields=list(body.fields),
        suggested_urgency=body.suggested_urgency,
        active=body.active,
    )


@router.get(
    "/v1/special-circumstances",
    response_model=list[SpecialCircumstanceOut],
    tags=["reference"],
    summary="The 14 groups of children in special circumstances (Law on Children Art. 10; public)",
)
async def list_special_circumstances(request: Request) -> list[SpecialCircumstanceOut]:
    async with runtime_of(request).sessions() as session:
        rows = (
            await session.execute(select(store.special_circumstances).order_by(store.special_circumstances.c.code))
        ).all()
    return [SpecialCircumstanceOut(code=r.code, name_vi=r.name_vi, name_en=r.name_en) for r in rows]
