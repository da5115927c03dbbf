"""HTTP routes of counseling requests: the web form (no account) and the status page for whoever holds the
code and the secret. The requests themselves are opened in `counseling.py` (also used by the Zalo inbox)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select

from services.intake import audit, domain, store
from services.intake.api_cases import auth
from services.intake.context import intake_context
from services.intake.counseling import add_message, message_context, open_request
from services.intake.schemas import CounselingCreated, CounselingIn, CounselingStatus
from shared.auth import Principal
from shared.errors import FieldErrors, NotFound, TooManyRequests
from shared.http_errors import ErrorBody, problems
from shared.service import runtime_of
from shared.uow import unit_of_work

router = APIRouter(tags=["counseling"])
CodePath = Annotated[str, Path(pattern=r"^TV-\d{4}-[A-Z0-9]{8}$")]
NOT_FOUND = "No request with this code and secret."
NOT_FOUND_VI = "Không có yêu cầu nào với mã và mã bí mật này."
MessageReader = Annotated[Principal, Depends(auth.require("member", "chair"))]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/v1/counseling-requests",
    status_code=201,
    response_model=CounselingCreated,
    summary="Ask the club for help (no account needed)",
    responses={429: {"model": ErrorBody, "description": "Too many requests from this address"}, **problems(413, 415)},
)
async def create_request(body: CounselingIn, request: Request) -> JSONResponse:
    context = intake_context(request)
    runtime = runtime_of(request)
    if body.topic != "free":
        async with runtime.sessions() as session:
            category = (
                await session.execute(select(store.categories.c.active).where(store.categories.c.code == body.topic))
            ).scalar_one_or_none()
        if not category:
            raise FieldErrors.one("body.topic", "Unknown topic; a category code or `free`.", "Chủ đề không hợp lệ.")
    allowed, wait = context.limiter.allow(client_address(request))
    if not allowed:
        raise TooManyRequests(
            "Too many requests from this address; try again later.",
            "Quá nhiều yêu cầu từ địa chỉ này, vui lòng thử lại sau.",
            headers={"Retry-After": str(wait)},
        )
    secret = domain.counseling_secret()
    now = runtime.clock.now()
    async with unit_of_work(runtime) as uow:
        session = uow.session
        request_id, code = await open_request(
            session,
            runtime.outbox,
            context,
            now=now,
            topic=body.topic,
            channel="web",
            age=body.age,  # type: ignore[arg-type]
            contact=body.contact.model_dump(exclude_none=True) if body.contact else None,
            secret=secret,
        )
        await add_message(session, context, request_id, now=now, kind="text", body=body.message)
    created = CounselingCreated(code=code, secret=secret, status="received", received_at=now)
    return JSONResponse(created.model_dump(mode="json"), status_code=201)


@router.get(
    "/v1/counseling-requests/{code}",
    response_model=CounselingStatus,
    summary="Status and the club's answer, for whoever holds the code and the secret",
    responses=problems(404),
)
async def get_request(
    code: CodePath,
    request: Request,
    x_tracking_secret: Annotated[str | None, Header(max_length=100)] = None,
    secret: Annotated[str | None, Query(max_length=100, description="Prefer the X-Tracking-Secret header.")] = None,
) -> CounselingStatus:
    given = x_tracking_secret or secret
    async with runtime_of(request).sessions() as session:
        row = (
            await session.execute(select(store.counseling_requests).where(store.counseling_requests.c.code == code))
        ).first()
    # Unknown code and wrong secret look the same.
    if row is None or row.secret_sha256 is None or not given:
        raise NotFound(NOT_FOUND, NOT_FOUND_VI)
    if not hmac.compare_digest(row.secret_sha256, hashlib.sha256(given.encode()).hexdigest()):
        raise NotFound(NOT_FOUND, NOT_FOUND_VI)
    return CounselingStatus(
        code=row.code,
        status=row.status,
        topic=row.topic,
        received_at=row.received_at,
        answer=row.answer_text,
        answered_at=row.answered_at,
    )


class CounselingMessage(BaseModel):
    at: datetime
    kind: str
    body: str


class CounselingForMember(BaseModel):
    request_id: uuid.UUID
    code: str
    topic: str
    channel: str
    age_band: str
    status: str
    received_at: datetime
    messages: list[CounselingMessage]


@router.get(
    "/v1/counseling-requests/{request_id}/messages",
    response_model=CounselingForMember,
    summary="The requester's words, for the member given the request (every read is written to the audit log)",
    responses=problems(401, 403, 404),
)
async def request_messages(request_id: uuid.UUID, request: Request, principal: MessageReader) -> CounselingForMember:
    runtime = runtime_of(request)
    cipher = intake_context(request).cipher
    r, m = store.counseling_requests.c, store.counseling_members.c
    query = select(store.counseling_requests).where(r.id == request_id)
    if principal.role == "member":
        given = select(m.request_id).where(m.request_id == r.id, m.member_id == principal.member_id)
        query = query.where(given.exists())
    async with unit_of_work(runtime) as uow:
        session = uow.session
        row = (await session.execute(query)).first()
        if row is None:  # unknown, or not given to this member: the same answer
            raise NotFound("No such counseling request.", "Không tìm thấy yêu cầu tư vấn này.")
        stored = (
            await session.execute(
                select(store.counseling_messages)
                .where(store.counseling_messages.c.request_id == request_id)
                .order_by(store.counseling_messages.c.id)
            )
        ).all()
        messages = [
            CounselingMessage(at=s.at, kind=s.kind, body=cipher.decrypt(s.body, message_context(request_id)))
            for s in stored
        ]
        # The audit log's subject column holds the request's id here; the action tells it apart from a case.
        await audit.record_read(
            session,
            principal,
            action="read_counseling",
            subject_id=request_id,
            fields=["messages"],
            at=runtime.clock.now(),
        )
    return CounselingForMember(
        request_id=row.id,
        code=row.code,
        topic=row.topic,
        channel=row.channel,
        age_band=row.age_band,
        status=row.status,
        received_at=row.received_at,
        messages=messages,
    )
