"""Cases over HTTP: report, read, read the child's data (audited), the audit log."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from services.intake import audit, domain, store
from services.intake.authcache import CachingAuthenticator
from services.intake.cases import Idempotency, child_context, record_case
from services.intake.context import intake_context
from services.intake.refcache import Db
from services.intake.schemas import (
    AuditEntry,
    CaseCreated,
    CaseIn,
    CaseOut,
    Child,
    ChildOut,
    ConsentOut,
)
from shared.auth import Principal
from shared.case_keys import CaseCipher
from shared.errors import Conflict, Forbidden, Gone, NotFound
from shared.http_errors import problems
from shared.service import runtime_of
from shared.uow import unit_of_work

router = APIRouter(tags=["cases"])
auth = CachingAuthenticator(store.credentials)  # one per process; TTL set by create_app
Creator = Annotated[Principal, Depends(auth.require(*domain.CASE_CREATORS))]
Reader = Annotated[Principal, Depends(auth.require(*domain.CASE_READERS))]
Lister = Annotated[Principal, Depends(auth.require(*domain.CASE_LISTERS))]
ChildReader = Annotated[Principal, Depends(auth.require(*domain.CHILD_READERS))]
Chair = Annotated[Principal, Depends(auth.require("chair"))]
Admin = Annotated[Principal, Depends(auth.require("admin"))]
NOT_FOUND = "No such case."
NOT_FOUND_VI = "Không tìm thấy vụ việc."
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _forbidden_unit() -> Forbidden:
    return Forbidden("A reporter may report only for its own unit.", "Người báo cáo chỉ báo cáo cho đơn vị của mình.")


@router.post(
    "/v1/cases",
    status_code=201,
    response_model=CaseCreated,
    summary="Report a case (Form 01, Decree 56)",
    responses=problems(401, 403, 409, 413, 415),
)
async def create_case(
    body: CaseIn,
    request: Request,
    principal: Creator,
    idempotency_key: Annotated[str | None, Header(max_length=200, pattern=r"^[\x21-\x7e]+$")] = None,
) -> JSONResponse:
    """`Idempotency-Key`: the same key and body answer the first response again and create nothing; the
    same key with another body is refused with 409."""
    if principal.role == "reporter" and body.unit != principal.unit:
        raise _forbidden_unit()
    runtime = runtime_of(request)
    context = intake_context(request)
    idempotency = None
    if idempotency_key is not None:
        fingerprint = hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
        idempotency = Idempotency(principal.account_id, idempotency_key, fingerprint)
    now = runtime.clock.now()
    try:
        # A plain connection in autocommit: the idempotency lookup (only with the header), then one statement
        # that writes the case, its key, its event and the idempotency key together (`cases.write_statement`).
        async with runtime.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            if idempotency is not None and (stored := await _replay(conn, idempotency)):
                return stored  # nothing was written
            case_id, code, status = await record_case(
                conn,
                runtime.outbox,  # type: ignore[arg-type]
                context,
                body,
                principal,
                now,
                idempotency,
            )
    except IntegrityError:
        # A concurrent request with the same key won the race: answer as it did (nothing of ours was kept).
        if idempotency is not None:
            async with runtime.sessions() as session:
                if stored := await _replay(session, idempotency):
                    return stored
        raise
    answer = {"id": str(case_id), "code": code, "status": status}
    return JSONResponse(answer, status_code=201, headers={"Location": f"/v1/cases/{case_id}"})


async def _replay(session: Db, idempotency: Idempotency) -> JSONResponse | None:
    k = store.idempotency_keys.c
    row = (
        await session.execute(
            select(store.idempotency_keys).where(k.account_id == idempotency.account_id, k.key == idempotency.key)
        )
    ).first()
    if row is None:
        return None
    if row.request_sha256 != idempotency.request_sha256:
        raise Conflict(
            "This Idempotency-Key was used with a different body.",
            "Idempotency-Key này đã được dùng với nội dung khác.",
        )
    return JSONResponse(row.response, status_code=row.status_code, headers={"Idempotent-Replayed": "true"})


async def _visible_case(request: Request, principal: Principal, case_id: uuid.UUID):
    """The case and whether it has child data; 404 when it does not exist *for this principal*: another
    unit's case for a reporter, a case the member is not (or no longer) on for a member."""
    c, m = store.cases.c, store.case_members.c
    has_child = select(store.case_children.c.case_id).where(store.case_children.c.case_id == c.id).exists()
    query = select(store.cases, has_child.label("has_child")).where(c.id == case_id)
    if principal.role == "reporter":
        query = query.where(c.unit == principal.unit)
    elif principal.role == "member":
        # A member reads the cases it is on, until the case is closed (again once it is reopened).
        on_case = select(m.case_id).where(m.case_id == c.id, m.member_id == principal.member_id, m.on_case)
        query = query.where(on_case.exists(), c.status != "closed")
    elif principal.role == "committee":
        query = query.where(c.status.in_(domain.COMMITTEE_SEES))
    async with runtime_of(request).sessions() as session:
        row = (await session.execute(query)).first()
    if row is None:
        raise NotFound(NOT_FOUND, NOT_FOUND_VI)
    return row, row.has_child


CHAIRS = ("chair", "committee")
ERASED = (
    "The child's data of this case was erased (consent withdrawn).",
    "Thông tin của trẻ trong vụ việc này đã bị xóa (rút lại sự đồng ý).",
)


def _case_out(row, has_child: bool, principal: Principal, cipher: CaseCipher | None = None) -> CaseOut:
    """The case as the API shows it. With `cipher`, its free text decrypted (the caller audits the read);
    without, none of it (lists)."""
    reason = row.urgency_reason if cipher is not None and principal.role in CHAIRS else None
    emergency = row.emergency_reason if cipher is not None and principal.role in CHAIRS else None
    return CaseOut(
        id=row.id,
        code=row.code,
        status=row.status,
        unit=row.unit,
        category=row.category,
        urgency=row.urgency,
        protection_level=row.protection_level,
        special_circumstances=list(row.special_circumstances),
        summary=cipher.decrypt_optional(row.summary, child_context(row.id, "summary")) if cipher is not None else None,
        erased=cipher.destroyed if cipher is not None else False,
        learned_at=row.learned_at,
        occurred_at=row.occurred_at,
        occurred_on=row.occurred_on,
        reported_at=row.reported_at,
        age_band=row.age_band,
        legal_basis=row.legal_basis,
        consent=ConsentOut(child=row.child_consent, guardian=row.guardian_consent),
        has_child_data=has_child,
        possible_duplicate_of=row.possible_duplicate_of if principal.role in CHAIRS else None,
        urgency_reason=cipher.decrypt_optional(reason, child_context(row.id, "urgency_reason")) if cipher else None,
        emergency_reason=(
            cipher.decrypt_optional(emergency, child_context(row.id, "emergency_reason")) if cipher else None
        ),
        suggested_urgency=row.suggested_urgency,
    )


def free_text_read(row, principal: Principal) -> list[str]:
    """The free-text fields of the case `_case_out` gives this principal (what the audit row names)."""
    chair = principal.role in CHAIRS
    return [
        "summary",
        *(["urgency_reason"] if row.urgency_reason and chair else []),
        *(["emergency_reason"] if row.emergency_reason and chair else []),
    ]


@router.get(
    "/v1/cases/{case_id}",
    response_model=CaseOut,
    summary="A case with its summary, without the child's data (the summary's read is audited)",
    responses=problems(401, 403, 404),
)
async def get_case(case_id: uuid.UUID, request: Request, principal: Reader) -> CaseOut:
    row, has_child = await _visible_case(request, principal, case_id)
    runtime = runtime_of(request)
    async with runtime.sessions() as session, session.begin():
        cipher = await audit.cipher_of_case(session, intake_context(request).cipher, case_id)
        out = _case_out(row, has_child, principal, cipher)
        await audit.record_read(
            session,
            principal,
            action="read_case",
            subject_id=case_id,
            fields=free_text_read(row, principal),
            at=runtime.clock.now(),
            address=request.client.host if request.client else None,
        )
    return out


@router.get(
    "/v1/cases",
    response_model=list[CaseOut],
    summary="Recent cases (a reporter sees its unit's only)",
    responses=problems(401, 403),
)
async def list_cases(
    request: Request,
    principal: Lister,
    unit: Annotated[str | None, Query(pattern=domain.UNIT_PATTERN)] = None,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$")] = None,
    reported_from: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CaseOut]:
    c = store.cases.c
    query = select(store.cases, store.case_children.c.case_id.label("child_row")).outerjoin(
        store.case_children, store.case_children.c.case_id == c.id
    )
    if principal.role == "reporter":
        query = query.where(c.unit == principal.unit)
    elif principal.role == "committee":
        query = query.where(c.status.in_(domain.COMMITTEE_SEES))
    if unit is not None:
        query = query.where(c.unit == unit)
    if status is not None:
        query = query.where(c.status == status)
    if reported_from is not None:
        query = query.where(c.reported_at >= datetime.combine(reported_from, datetime.min.time(), domain.VN))
    async with runtime_of(request).sessions() as session:
        rows = (await session.execute(query.order_by(c.reported_at.desc()).limit(limit))).all()
    return [_case_out(row, row.child_row is not None, principal) for row in rows]


@router.get(
    "/v1/cases/{case_id}/child",
    response_model=ChildOut,
    summary="The child's data (decrypted; every read is written to the audit log)",
    responses=problems(401, 403, 404),
)
async def get_child(case_id: uuid.UUID, request: Request, principal: ChildReader) -> ChildOut:
    await _visible_case(request, principal, case_id)
    runtime = runtime_of(request)
    async with unit_of_work(runtime) as uow:
        session = uow.session
        cipher = await audit.cipher_of_case(session, intake_context(request).cipher, case_id)
        if cipher.destroyed:
            raise Gone(*ERASED)
        values = await audit.child_fields(session, cipher, case_id)
        await audit.record_read(
            session,
            principal,
            action="read_child",
            subject_id=case_id,
            fields=values,
            at=runtime.clock.now(),
            address=request.client.host if request.client else None,
        )
    return ChildOut(case_id=case_id, child=Child.model_validate(values))


@router.get(
    "/v1/cases/{case_id}/form-01",
    summary="Decree 56 Form 01 (BÁO CÁO TIẾP NHẬN THÔNG TIN TRẺ EM) as DOCX, with the child's data (audited)",
    responses={200: {"content": {DOCX: {}}}, **problems(401, 403, 404)},
    response_class=Response,
)
async def get_form_01(case_id: uuid.UUID, request: Request, principal: ChildReader) -> Response:
    row, _ = await _visible_case(request, principal, case_id)
    runtime = runtime_of(request)
    context = intake_context(request)
    async with unit_of_work(runtime) as uow:
        session = uow.session
        cipher = await audit.cipher_of_case(session, context.cipher, case_id)
        if cipher.destroyed:
            raise Gone(*ERASED)
        child = await audit.child_fields(session, cipher, case_id)
        reporter = (
            json.loads(cipher.decrypt(row.reporter_contact, child_context(case_id, "reporter_contact")))
            if row.reporter_contact
            else {}
        )
        unit_name = (
            await session.execute(select(store.units.c.name_vi).where(store.units.c.code == row.unit))
        ).scalar_one_or_none()
        category_name = (
            await session.execute(select(store.categories.c.name_vi).where(store.categories.c.code == row.category))
        ).scalar_one_or_none()
        s = store.special_circumstances.c
        groups = (
            await session.execute(select(s.name_vi).where(s.code.in_(list(row.special_circumstances))).order_by(s.code))
        ).scalars()
        read = [*child, *(["reporter_contact"] if reporter else []), "summary"]
        await audit.record_read(
            session,
            principal,
            action="form_01",
            subject_id=case_id,
            fields=read,
            at=runtime.clock.now(),
            address=request.client.host if request.client else None,
        )
    from services.intake import form01  # python-docx (~8 MiB of RSS) only once a form is asked for

    body = form01.render(
        form01.Form01(
            code=row.code,
            receiving_body=context.settings.club_name,
            reported_at=row.reported_at,
            learned_at=row.learned_at,
            unit_name=unit_name or row.unit,
            category_code=row.category,
            category_name=category_name or row.category,
            urgency=row.urgency,
            protection_level=row.protection_level,
            summary=cipher.decrypt(row.summary, child_context(case_id, "summary")),
            special_circumstances=list(groups),
            child=child,
            reporter=reporter,
            occurred_on=row.occurred_on,
        )
    )
    return Response(
        body,
        media_type=DOCX,
        headers={
            "Content-Disposition": f'attachment; filename="mau-01-{row.code}.docx"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/v1/cases/{case_id}/possible-duplicates",
    response_model=list[CaseOut],
    summary="Cases linked to this one as about the same child (chair only; nothing is merged)",
    responses=problems(401, 403, 404),
)
async def possible_duplicates(case_id: uuid.UUID, request: Request, principal: Chair) -> list[CaseOut]:
    row, _ = await _visible_case(request, principal, case_id)
    c = store.cases.c
    conditions = [c.possible_duplicate_of == case_id]
    if row.possible_duplicate_of is not None:
        conditions.append(c.id == row.possible_duplicate_of)
    async with runtime_of(request).sessions() as session:
        rows = (await session.execute(select(store.cases).where(or_(*conditions)).order_by(c.reported_at))).all()
    return [_case_out(r, False, principal) for r in rows]


@router.get(
    "/v1/audit-log",
    response_model=list[AuditEntry],
    summary="Who read which child's data (admin): by case (id or code), person and time, newest first, paged",
    tags=["admin"],
    responses=problems(401, 403),
)
async def audit_log(
    request: Request,
    _admin: Admin,
    case_id: uuid.UUID | None = None,
    case_code: Annotated[str | None, Query(max_length=32)] = None,
    account_id: uuid.UUID | None = None,
    since: Annotated[datetime | None, Query(description="from this instant on (inclusive)")] = None,
    until: Annotated[datetime | None, Query(description="before this instant (exclusive)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AuditEntry]:
    a, c = store.audit_log.c, store.cases.c
    query = select(store.audit_log, c.code.label("case_code")).select_from(
        store.audit_log.outerjoin(store.cases, c.id == a.case_id)
    )
    if case_id is not None:
        query = query.where(a.case_id == case_id)
    if case_code is not None:
        query = query.where(c.code == case_code.strip().upper())
    if account_id is not None:
        query = query.where(a.account_id == account_id)
    if since is not None:  # an instant without an offset is Vietnam's time
        query = query.where(a.at >= (since if since.tzinfo else since.replace(tzinfo=domain.VN)))
    if until is not None:
        query = query.where(a.at < (until if until.tzinfo else until.replace(tzinfo=domain.VN)))
    async with runtime_of(request).sessions() as session:
        rows = (await session.execute(query.order_by(a.id.desc()).limit(limit).offset(offset))).all()
    return [AuditEntry.model_validate(row._mapping) for row in rows]


_ = Response
