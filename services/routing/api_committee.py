"""The Standing Committee's work over HTTP: its inbox of forwarded cases and recording its decision."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from services.routing import store
from services.routing.api import CaseOut, Strict, _case_view, auth
from services.routing.committee import record_decision
from services.routing.domain import COMMITTEE_SEES
from services.routing.freetext import case_ciphers_of, proposal_context
from shared.audit import record_read
from shared.auth import Principal
from shared.events.routing import DecisionOutcome
from shared.service import runtime_of
from shared.text import NfcStr
from shared.uow import RetryingRoute, unit_of_work

router = APIRouter(prefix="/v1", tags=["committee"], route_class=RetryingRoute)
Committee = Annotated[Principal, Depends(auth.require("committee"))]
InboxReader = Annotated[Principal, Depends(auth.require("committee", "chair", "admin"))]


class DecisionIn(Strict):
    outcome: DecisionOutcome = Field(
        description="approved (the proposal as it stands), amended (approved with the changes in `text`), "
        "returned (back to the club to complete; the case is in progress again)"
    )
    text: Annotated[NfcStr, Field(min_length=1, max_length=8000)]


OWN = ("opinions", "outcome", "decided_at", "proposal")  # computed here, not the case's columns of the same name


class InboxCase(BaseModel):
    case_id: uuid.UUID
    code: str
    unit: str
    category: str
    urgency: str
    protection_level: str
    status: str
    proposal: str | None = Field(description="The chair's compiled proposal (may name the child: never in events)")
    proposal_level: str | None
    proposal_referrals: list[str]
    forwarded_at: datetime | None
    opinions: int
    outcome: str | None = Field(description="The decision on the latest forwarding, if taken")
    decided_at: datetime | None


@router.get(
    "/committee/cases",
    response_model=list[InboxCase],
    summary="The Standing Committee's inbox: forwarded cases (undecided first, oldest first), then closed ones",
)
async def committee_inbox(request: Request, principal: InboxReader) -> list[InboxCase]:
    c, d, o = store.cases.c, store.decisions.c, store.opinions.c
    opinions = select(func.count()).where(o.case_id == c.case_id).scalar_subquery()
    query = (
        select(
            store.cases,
            opinions.label("opinion_count"),
            d.outcome.label("decision_outcome"),
            d.decided_at.label("decision_at"),
        )
        .outerjoin(store.decisions, (d.case_id == c.case_id) & (d.forwarded_at == c.forwarded_at))
        .where(c.status.in_(COMMITTEE_SEES))
        .limit(500)
    )
    runtime = runtime_of(request)
    proposals: dict[uuid.UUID, str | None] = {}
    async with runtime.sessions() as session, session.begin():
        rows = (await session.execute(query)).all()
        proposed = [row for row in rows if row.proposal is not None]
        ciphers = await case_ciphers_of(session, runtime.settings, [row.case_id for row in proposed])
        for row in proposed:  # the chair's proposal is encrypted under the case's key; each read is audited
            cipher = ciphers[row.case_id]
            proposals[row.case_id] = cipher.decrypt_optional(row.proposal, proposal_context(row.case_id))
            await record_read(
                session,
                store.audit_log,
                principal,
                action="read_case",
                subject_id=row.case_id,
                fields=["proposal"],
                at=runtime.clock.now(),
                address=request.client.host if request.client else None,
            )

    def order(row) -> tuple:
        waiting = row.status == "forwarded" and row.decision_outcome is None
        moment = row.forwarded_at or row.updated_at
        return (0 if waiting else 1 if row.status == "forwarded" else 2, moment if waiting else -moment.timestamp())

    return [
        InboxCase(
            **{k: row._mapping[k] for k in InboxCase.model_fields if k in row._mapping and k not in OWN},
            proposal=proposals.get(row.case_id),
            opinions=row.opinion_count,
            outcome=row.decision_outcome,
            decided_at=row.decision_at,
        )
        for row in sorted(rows, key=order)
    ]


@router.post(
    "/cases/{case_id}/decision",
    response_model=CaseOut,
    status_code=201,
    summary="Standing Committee: record the decision on a forwarded case (announced as `case.decided`)",
)
async def decide(request: Request, case_id: uuid.UUID, body: DecisionIn, principal: Committee) -> CaseOut:
    async with unit_of_work(runtime_of(request)) as fx:
        await record_decision(fx, case_id, body.outcome, body.text, principal.account_id)
    return await _case_view(request, case_id, principal)
