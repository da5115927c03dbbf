"""Routing's HTTP API for cases, assignments and counseling requests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from services.routing import store
from services.routing.answers import answer_assignment, chair_changes_members
from services.routing.api_referrals import ReferralOut, referral_out
from services.routing.cases import locked_case, move_case
from services.routing.committee import ensure_committee_may_read
from services.routing.domain import summarise_opinions
from services.routing.freetext import (
    answer_context,
    case_cipher_of,
    cipher_of,
    decision_context,
    opinion_context,
    outcome_context,
    proposal_context,
    reopen_context,
)
from services.routing.registry import FieldName
from services.routing.roster import ACTIVE, committee_recipients
from shared.audit import record_read
from shared.auth import Authenticator, Principal
from shared.errors import Conflict, FieldErrors, Forbidden, NotFound
from shared.events import ProtectionLevel
from shared.events.routing import CaseForwarded, CounselingRequestAnswered
from shared.sealed import Sealer
from shared.sealed import answer_context as sealed_answer_context
from shared.service import runtime_of
from shared.text import NfcStr
from shared.uow import RetryingRoute, unit_of_work

auth = Authenticator(store.credentials)
NO_ASSIGNMENT = "You hold no assignment on this case."
NO_ASSIGNMENT_VI = "Đồng chí không được phân công trong vụ việc này."
router = APIRouter(prefix="/v1", tags=["cases"], route_class=RetryingRoute)

Chair = Annotated[Principal, Depends(auth.require("chair", "admin"))]
MemberOnly = Annotated[Principal, Depends(auth.require("member"))]
MemberOrChair = Annotated[Principal, Depends(auth.require("member", "chair", "admin"))]
# Operators run the system and never read a case's or a request's content (issue 14).
Reader = Annotated[Principal, Depends(auth.require("member", "chair", "committee", "admin"))]
CounselingReader = Annotated[Principal, Depends(auth.require("member", "chair", "admin"))]
CLOSED_TO_MEMBERS = ("Members no longer read a closed case.", "Vụ việc đã đóng: thành viên không còn được xem.")
Referral = Literal["police", "health_facility", "commune_social_services", "school", "legal_aid"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssignmentOut(BaseModel):
    assignment_id: uuid.UUID
    member_id: uuid.UUID
    display_name: str
    field: str | None
    status: str
    assigned_at: datetime
    respond_by: datetime
    answered_at: datetime | None


class OpinionOut(BaseModel):
    opinion_id: uuid.UUID
    member_id: uuid.UUID
    text: str
    recommended_level: str | None
    referrals: list[str]
    created_at: datetime


class DecisionOut(BaseModel):
    decision_id: uuid.UUID
    outcome: str
    text: str
    forwarded_at: datetime
    decided_at: datetime


class CaseOut(BaseModel):
    case_id: uuid.UUID
    code: str
    unit: str
    category: str
    urgency: str
    protection_level: str
    status: str
    required_fields: list[str]
    assignments: list[AssignmentOut]
    opinions: list[OpinionOut]
    proposal: str | None
    proposal_level: str | None
    proposal_referrals: list[str]
    outcome: str | None
    learned_at: datetime | None = None
    forwarded_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_reason: str | None = None
    reopened_at: datetime | None = None
    referrals: list[ReferralOut] = Field(default_factory=list, description="To whom the case was referred, and when.")
    forwarded_at: datetime | None = None
    decisions: list[DecisionOut] = Field(
        default_factory=list, description="The Standing Committee's decisions, one per forwarding, oldest first."
    )


class OpinionIn(Strict):
    text: Annotated[NfcStr, Field(min_length=1, max_length=8000)]
    recommended_level: ProtectionLevel | None = None
    referrals: tuple[Referral, ...] = ()


class ForwardIn(Strict):
    proposal: Annotated[NfcStr, Field(min_length=1, max_length=20000)]
    recommended_level: ProtectionLevel | None = Field(
        default=None, description="Default: the strongest level any member recommended."
    )
    referrals: tuple[Referral, ...] | None = Field(default=None, description="Default: every referral proposed.")


class CloseIn(Strict):
    outcome: Annotated[NfcStr, Field(min_length=1, max_length=2000)]


class ReopenIn(Strict):
    reason: Annotated[NfcStr, Field(min_length=1, max_length=2000)]


class MemberOnCase(Strict):
    member_id: uuid.UUID
    field: FieldName | None = None


class MembersChangeIn(Strict):
    add: list[MemberOnCase] = Field(default_factory=list, max_length=20)
    remove: list[uuid.UUID] = Field(default_factory=list, max_length=20)


class AnswerIn(Strict):
    text: Annotated[NfcStr, Field(min_length=1, max_length=4000)]


class StatusOut(BaseModel):
    status: str


async def _case_view(request: Request, case_id: uuid.UUID, principal: Principal) -> CaseOut:
    """The case with its free text decrypted; the read is written to the audit log (who, which fields)."""
    runtime = runtime_of(request)
    async with runtime.sessions() as session, session.begin():
        cipher = await case_cipher_of(session, runtime.settings, case_id)
        case = (await session.execute(select(store.cases).where(store.cases.c.case_id == case_id))).first()
        if case is None:
            raise NotFound("No such case.", "Không tìm thấy vụ việc.")
        a, m = store.assignments.c, store.members.c
        assignments = await session.execute(
            select(store.assignments, m.display_name)
            .join(store.members, m.member_id == a.member_id)
            .where(a.case_id == case_id)
            .order_by(a.assigned_at, a.field)
        )
        opinions = (
            await session.execute(
                select(store.opinions).where(store.opinions.c.case_id == case_id).order_by(store.opinions.c.created_at)
            )
        ).all()
        r = store.referrals.c
        referrals = await session.execute(select(store.referrals).where(r.case_id == case_id).order_by(r.referred_at))
        d = store.decisions.c
        decisions = await session.execute(select(store.decisions).where(d.case_id == case_id).order_by(d.decided_at))
        values = {k: v for k, v in case._mapping.items() if k in CaseOut.model_fields}
        values["proposal"] = cipher.decrypt_optional(case.proposal, proposal_context(case_id))
        values["outcome"] = cipher.decrypt_optional(case.outcome, outcome_context(case_id))
        values["reopen_reason"] = cipher.decrypt_optional(case.reopen_reason, reopen_context(case_id))
        out = CaseOut(
            **values,
            assignments=[
                AssignmentOut(**{k: row._mapping[k] for k in AssignmentOut.model_fields}) for row in assignments
            ],
            opinions=[
                OpinionOut(
                    **{k: row._mapping[k] for k in OpinionOut.model_fields if k != "text"},
                    text=cipher.decrypt_optional(row.text or None, opinion_context(row.opinion_id)) or "",
                )
                for row in opinions
            ],
            referrals=[referral_out(row) for row in referrals],
            decisions=[
                DecisionOut(
                    **{k: row._mapping[k] for k in DecisionOut.model_fields if k != "text"},
                    text=cipher.decrypt_optional(row.text or None, decision_context(row.decision_id)) or "",
                )
                for row in decisions
            ],
        )
        read = [f for f in ("proposal", "outcome", "reopen_reason") if values[f] is not None] + (
            ["opinions"] if opinions else []
        )
        read += ["decisions"] if out.decisions else []
        if read:
            await record_read(
                session,
                store.audit_log,
                principal,
                action="read_case",
                subject_id=case_id,
                fields=read,
                at=runtime.clock.now(),
                address=request.client.host if request.client else None,
            )
        return out


async def _holds(session, case_id: uuid.UUID, member_id: uuid.UUID | None) -> bool:
    a = store.assignments.c
    row = (
        await session.execute(
            select(a.assignment_id).where(a.case_id == case_id, a.member_id == member_id, a.status.in_(ACTIVE))
        )
    ).first()
    return row is not None


async def _may_read(session, case_id: uuid.UUID, principal: Principal) -> None:
    """A member reads a case it is on until the case is closed (again once reopened); the committee reads what
    was forwarded to it; the chair and admins read every case; operators none (not a `Reader`)."""
    if principal.role not in ("member", "committee"):
        return
    c = store.cases.c
    case = (await session.execute(select(c.status, c.forwarded_at).where(c.case_id == case_id))).first()
    if case is None:
        raise NotFound("No such case.", "Không tìm thấy vụ việc.")
    await ensure_committee_may_read(session, principal, case_id)
    if principal.role == "member":
        if not await _holds(session, case_id, principal.member_id):
            raise Forbidden(NO_ASSIGNMENT, NO_ASSIGNMENT_VI)
        if case.status == "closed":
            raise Forbidden(*CLOSED_TO_MEMBERS)


@router.get("/cases/{case_id}", response_model=CaseOut, summary="A case as routing follows it")
async def get_case(request: Request, case_id: uuid.UUID, principal: Reader) -> CaseOut:
    async with runtime_of(request).sessions() as session:
        await _may_read(session, case_id, principal)
    return await _case_view(request, case_id, principal)


@router.post("/assignments/{assignment_id}/accept", response_model=StatusOut, summary="Accept an assignment")
async def accept(request: Request, assignment_id: uuid.UUID, principal: MemberOnly) -> StatusOut:
    async with unit_of_work(runtime_of(request)) as fx:
        await answer_assignment(fx, assignment_id, True, as_member=principal.member_id)
    return StatusOut(status="accepted")


@router.post("/assignments/{assignment_id}/decline", response_model=StatusOut, summary="Decline an assignment")
async def decline(request: Request, assignment_id: uuid.UUID, principal: MemberOnly) -> StatusOut:
    async with unit_of_work(runtime_of(request)) as fx:
        await answer_assignment(fx, assignment_id, False, as_member=principal.member_id)
    return StatusOut(status="declined")


@router.post("/cases/{case_id}/members", response_model=CaseOut, summary="Chair: add, remove or replace members")
async def change_members(request: Request, case_id: uuid.UUID, body: MembersChangeIn, principal: Chair) -> CaseOut:
    if not body.add and not body.remove:
        raise FieldErrors.one("body", "Give `add` or `remove`.", "Cần có `add` hoặc `remove`.")
    async with unit_of_work(runtime_of(request)) as fx:
        await chair_changes_members(fx, case_id, [(m.member_id, m.field) for m in body.add], body.remove)
    return await _case_view(request, case_id, principal)


@router.post("/cases/{case_id}/opinions", response_model=CaseOut, status_code=201, summary="Post an opinion")
async def post_opinion(request: Request, case_id: uuid.UUID, body: OpinionIn, principal: MemberOrChair) -> CaseOut:
    async with unit_of_work(runtime_of(request)) as fx:
        case = await locked_case(fx.session, case_id)
        if principal.role == "member" and not await _holds(fx.session, case_id, principal.member_id):
            raise Forbidden(NO_ASSIGNMENT, NO_ASSIGNMENT_VI)
        if case.status not in ("accepted", "in_progress"):
            raise Conflict(
                f"Opinions are taken on an accepted case in progress, not in state '{case.status}'.",
                f"Chỉ nhận ý kiến cho vụ việc đã nhận và đang xử lý, không phải ở trạng thái '{case.status}'.",
            )
        if case.status == "accepted":
            await move_case(fx, case_id, "in_progress")
        opinion_id = uuid.uuid4()
        await fx.session.execute(
            store.opinions.insert().values(
                opinion_id=opinion_id,
                case_id=case_id,
                member_id=principal.member_id or principal.account_id,
                text=(await case_cipher_of(fx.session, fx.settings, case_id, create_at=fx.now)).encrypt(
                    body.text, opinion_context(opinion_id)
                ),
                recommended_level=body.recommended_level,
                referrals=list(body.referrals),
                created_at=fx.now,
            )
        )
    return await _case_view(request, case_id, principal)


@router.post("/cases/{case_id}/start", response_model=CaseOut, summary="Mark an accepted case as in progress")
async def start(request: Request, case_id: uuid.UUID, principal: MemberOrChair) -> CaseOut:
    async with unit_of_work(runtime_of(request)) as fx:
        if principal.role == "member" and not await _holds(fx.session, case_id, principal.member_id):
            raise Forbidden(NO_ASSIGNMENT, NO_ASSIGNMENT_VI)
        await move_case(fx, case_id, "in_progress")
    return await _case_view(request, case_id, principal)


@router.post("/cases/{case_id}/forward", response_model=CaseOut, summary="Chair: compile and forward to the committee")
async def forward(request: Request, case_id: uuid.UUID, body: ForwardIn, principal: Chair) -> CaseOut:
    async with unit_of_work(runtime_of(request)) as fx:
        case = await locked_case(fx.session, case_id)
        opinions = await fx.session.execute(
            select(store.opinions.c.recommended_level, store.opinions.c.referrals).where(
                store.opinions.c.case_id == case_id
            )
        )
        summary = summarise_opinions((row.recommended_level, row.referrals) for row in opinions)
        level = body.recommended_level or summary.level
        referrals = tuple(body.referrals) if body.referrals is not None else summary.referrals
        await move_case(
            fx,
            case_id,
            "forwarded",
            proposal=(await case_cipher_of(fx.session, fx.settings, case_id, create_at=fx.now)).encrypt(
                body.proposal, proposal_context(case_id)
            ),
            proposal_level=level,
            proposal_referrals=list(referrals),
            forwarded_at=fx.now,
        )
        await fx.emit(
            CaseForwarded(
                case_id=case_id,
                code=case.code,
                urgency=case.urgency,
                recommended_level=level,
                referrals=referrals,
                recipients=await committee_recipients(fx.session),
                forwarded_at=fx.now,
            ),
            case_id,
        )
    return await _case_view(request, case_id, principal)


@router.post("/cases/{case_id}/close", response_model=CaseOut, summary="Chair: close a forwarded case with its outcome")
async def close(request: Request, case_id: uuid.UUID, body: CloseIn, principal: Chair) -> CaseOut:
    async with unit_of_work(runtime_of(request)) as fx:
        await move_case(fx, case_id, "closed", outcome=body.outcome)
    return await _case_view(request, case_id, principal)


@router.post("/cases/{case_id}/reopen", response_model=CaseOut, summary="Chair: reopen a closed case")
async def reopen(request: Request, case_id: uuid.UUID, principal: Chair, body: ReopenIn | None = None) -> CaseOut:
    """With a `reason` (encrypted under the case's key, shown on its page; not sent in events)."""
    async with unit_of_work(runtime_of(request)) as fx:
        values: dict[str, object] = {}
        if body:
            cipher = await case_cipher_of(fx.session, fx.settings, case_id, create_at=fx.now)
            values = {"reopen_reason": cipher.encrypt(body.reason, reopen_context(case_id)), "reopened_at": fx.now}
        await move_case(fx, case_id, "in_progress", **values)
    return await _case_view(request, case_id, principal)


class RequestOut(BaseModel):
    request_id: uuid.UUID
    code: str
    topic: str
    channel: str
    status: str
    required_fields: list[str]
    answer_text: str | None
    answered_at: datetime | None


@router.get("/counseling-requests/{request_id}", response_model=RequestOut, tags=["counseling"])
async def get_request(request: Request, request_id: uuid.UUID, principal: CounselingReader) -> RequestOut:
    """The member given the request, the chair and admins read it; nobody else."""
    runtime = runtime_of(request)
    async with runtime.sessions() as session, session.begin():
        if principal.role == "member":
            a = store.assignments.c
            held = select(a.assignment_id).where(
                a.request_id == request_id, a.member_id == principal.member_id, a.status.in_(ACTIVE)
            )
            if (await session.execute(held)).first() is None:
                raise Forbidden("This request is not assigned to you.", "Yêu cầu này không được giao cho đồng chí.")
        row = (
            await session.execute(
                select(store.counseling_requests).where(store.counseling_requests.c.request_id == request_id)
            )
        ).first()
        if row is None:
            raise NotFound("No such counseling request.", "Không tìm thấy yêu cầu tư vấn.")
        values = {k: row._mapping[k] for k in RequestOut.model_fields}
        if row.answer_text is not None:
            values["answer_text"] = cipher_of(runtime.settings).decrypt(row.answer_text, answer_context(request_id))
            await record_read(
                session,
                store.audit_log,
                principal,
                action="read_counseling_answer",
                subject_id=request_id,
                fields=["answer_text"],
                at=runtime.clock.now(),
                address=request.client.host if request.client else None,
            )
    return RequestOut(**values)


@router.post(
    "/counseling-requests/{request_id}/answer", response_model=StatusOut, tags=["counseling"], summary="Answer it"
)
async def answer_request(request: Request, request_id: uuid.UUID, body: AnswerIn, principal: MemberOnly) -> StatusOut:
    r, a = store.counseling_requests.c, store.assignments.c
    async with unit_of_work(runtime_of(request)) as fx:
        row = (
            await fx.session.execute(
                select(store.counseling_requests).where(r.request_id == request_id).with_for_update()
            )
        ).first()
        if row is None:
            raise NotFound("No such counseling request.", "Không tìm thấy yêu cầu tư vấn.")
        held = (
            await fx.session.execute(
                select(a.assignment_id).where(
                    a.request_id == request_id, a.member_id == principal.member_id, a.status.in_(ACTIVE)
                )
            )
        ).first()
        if held is None:
            raise Forbidden("This request is not assigned to you.", "Yêu cầu này không được giao cho đồng chí.")
        if row.status == "answered":
            raise Conflict("This request is already answered.", "Yêu cầu này đã được trả lời.")
        await fx.session.execute(
            store.counseling_requests.update()
            .where(r.request_id == request_id)
            .values(
                status="answered",
                answer_text=cipher_of(fx.settings).encrypt(body.text, answer_context(request_id)),
                answered_by=principal.member_id,
                answered_at=fx.now,
            )
        )
        await fx.session.execute(
            store.assignments.update()
            .where(a.assignment_id == held.assignment_id, a.status == "pending")
            .values(status="accepted", answered_at=fx.now)
        )
        sealer = Sealer.from_settings(fx.settings)
        await fx.emit(
            CounselingRequestAnswered(
                request_id=request_id,
                code=row.code,
                answer={
                    consumer: sealer.seal(consumer, body.text, sealed_answer_context(request_id))
                    for consumer in ("intake", "notify")
                },
                answered_by=principal.member_id,
                answered_at=fx.now,
                reply_to=row.reply_to,
            ),
            request_id,
        )
    return StatusOut(status="answered")
