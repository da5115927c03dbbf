"""What the chair (and vice-chairs) steer by, over HTTP: the dashboard of what needs them, the routing
suggestion for a case's fields with its reasons, and each member's current load.

Added for the chair's web pages ("Việc cần làm", the chair's case page, the members registry)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.engine import Row

from services.routing import store
from services.routing.api import auth
from services.routing.domain import missing_fields, opinions_complete, suggest
from services.routing.pool import load_pool
from services.routing.referrals import EMERGENCY_TARGETS
from services.routing.roster import ACTIVE
from services.routing.timers import MET
from shared.auth import Principal
from shared.errors import NotFound
from shared.service import runtime_of
from shared.uow import RetryingRoute

router = APIRouter(prefix="/v1/chair", tags=["chair"], route_class=RetryingRoute)
Chair = Annotated[Principal, Depends(auth.require("chair", "admin"))]
CASE_DEADLINES = ("emergency_intervention", "support_plan")
WORKING = ("reported", "assigned", "accepted", "in_progress")
STAGE_RANK = {"reminder": 0, "chair": 1, "committee": 2}


class Item(BaseModel):
    """One line of a dashboard list: a case or a counseling request, and why it is there."""

    case_id: uuid.UUID | None = None
    request_id: uuid.UUID | None = None
    code: str
    urgency: str | None = None
    status: str | None = None
    category: str | None = None
    unit: str | None = None
    due_at: datetime | None = Field(default=None, description="The deadline the list is sorted by.")
    deadline: str | None = Field(
        default=None, description="The clock: emergency_intervention, support_plan, acceptance, answer."
    )
    level: str | None = Field(default=None, description="Escalated to: chair | committee.")
    at: datetime | None = Field(default=None, description="Reported, declined or escalated at.")
    assignment_id: uuid.UUID | None = None
    member_id: uuid.UUID | None = None
    display_name: str | None = None
    field: str | None = None
    replaced_by: str | None = Field(default=None, description="Declined: who holds the field now.")
    missing_fields: list[str] = Field(default_factory=list)
    opinions: int | None = None


class Dashboard(BaseModel):
    now: datetime
    waiting: list[Item] = Field(description="Not yet assigned, or a required field nobody holds.")
    unanswered: list[Item] = Field(description="Assignments waiting for the member's answer.")
    declined: list[Item] = Field(description="Declined assignments on cases still being worked on.")
    deadlines_coming: list[Item]
    deadlines_passed: list[Item]
    escalated: list[Item]
    opinions_in: list[Item] = Field(description="Cases whose members have all given their opinion.")
    counseling: list[Item] = Field(description="Counseling requests not yet answered.")


def _sorted(items: Iterable[Item]) -> list[Item]:
    """By deadline (none last), then by the time of what happened."""

    def key(item: Item) -> tuple[float, float]:
        due = item.due_at.timestamp() if item.due_at else float("inf")
        return (due, item.at.timestamp() if item.at else 0.0)

    return sorted(items, key=key)


def _case_item(case: Row, due_at: datetime | None, **values: object) -> Item:
    return Item(
        case_id=case.case_id,
        code=case.code,
        urgency=case.urgency,
        status=case.status,
        category=case.category,
        unit=case.unit,
        due_at=due_at,
        **values,  # type: ignore[arg-type]
    )


@router.get("/dashboard", response_model=Dashboard, summary="What needs the chair, each list sorted by deadline")
async def dashboard(request: Request, _chair: Chair) -> Dashboard:
    runtime = runtime_of(request)
    now = runtime.clock.now()
    c, a, t, o, f = store.cases.c, store.assignments.c, store.timers.c, store.opinions.c, store.referrals.c
    q = store.counseling_requests.c
    async with runtime.sessions() as session:
        cases = {row.case_id: row for row in await session.execute(select(store.cases).where(c.status != "closed"))}
        requests = {
            row.request_id: row
            for row in await session.execute(select(store.counseling_requests).where(q.status != "answered"))
        }
        names = {
            row.member_id: row.display_name
            for row in await session.execute(select(store.members.c.member_id, store.members.c.display_name))
        }
        held = list(
            await session.execute(
                select(store.assignments).where(
                    (a.case_id.in_(list(cases)) | a.request_id.in_(list(requests))),
                    a.status.in_((*ACTIVE, "declined")),
                )
            )
        )
        timers = list(
            await session.execute(
                select(store.timers).where(
                    t.deadline != "leave_start", (t.case_id.in_(list(cases)) | t.request_id.in_(list(requests)))
                )
            )
        )
        authors = list(await session.execute(select(o.case_id, o.member_id).where(o.case_id.in_(list(cases)))))
        referred = set(
            (
                await session.execute(
                    select(f.case_id).where(f.case_id.in_(list(cases)), f.target.in_(sorted(EMERGENCY_TARGETS)))
                )
            ).scalars()
        )

    def unmet(case: Row, deadline: str) -> bool:
        if case.status in MET.get(deadline, set()):
            return False
        return not (deadline == "emergency_intervention" and case.case_id in referred)

    # The case's own Decree 56 clocks (the reminder row carries the deadline itself).
    clocks: dict[uuid.UUID, list[tuple[str, datetime]]] = {}
    answer_due: dict[uuid.UUID, datetime] = {}
    for timer in timers:
        if timer.stage != "reminder" or timer.assignment_id is not None:
            continue
        if timer.case_id in cases and timer.deadline in CASE_DEADLINES and unmet(cases[timer.case_id], timer.deadline):
            clocks.setdefault(timer.case_id, []).append((timer.deadline, timer.due_at))
        elif timer.request_id in requests and timer.deadline == "answer":
            answer_due[timer.request_id] = timer.due_at
    case_due = {case_id: min(due for _, due in found) for case_id, found in clocks.items()}

    active = [row for row in held if row.status in ACTIVE]
    waiting, unanswered, declined, opinions_in, counseling = [], [], [], [], []
    for case in cases.values():
        if case.status not in WORKING:
            continue
        mine = [row for row in active if row.case_id == case.case_id]
        missing = missing_fields(case.required_fields, (row.field for row in mine))
        if (case.status == "reported" and not mine) or missing:
            waiting.append(_case_item(case, case_due.get(case.case_id), at=case.reported_at, missing_fields=missing))
        holders = [row.member_id for row in mine if row.status == "accepted" and row.field is not None]
        pending = sum(row.status == "pending" and row.field is not None for row in mine)
        wrote = [row.member_id for row in authors if row.case_id == case.case_id]
        if case.status in ("accepted", "in_progress") and opinions_complete(holders, pending, wrote):
            opinions_in.append(_case_item(case, case_due.get(case.case_id), opinions=len(wrote)))
    for row in held:
        person = {"member_id": row.member_id, "display_name": names.get(row.member_id), "field": row.field}
        subject = cases.get(row.case_id) if row.case_id else None
        if row.status == "pending":
            code = subject.code if subject else requests[row.request_id].code
            unanswered.append(
                Item(
                    case_id=row.case_id,
                    request_id=row.request_id,
                    code=code,
                    urgency=subject.urgency if subject else None,
                    due_at=row.respond_by,
                    deadline="acceptance",
                    at=row.assigned_at,
                    assignment_id=row.assignment_id,
                    **person,
                )
            )
        elif row.status == "declined" and subject is not None and subject.status in WORKING:
            now_holding = [
                names.get(h.member_id, "") for h in active if h.case_id == row.case_id and h.field == row.field
            ]
            declined.append(
                _case_item(
                    subject,
                    case_due.get(subject.case_id),
                    at=row.answered_at,
                    assignment_id=row.assignment_id,
                    replaced_by=", ".join(now_holding) or None,
                    **person,
                )
            )
    for found in requests.values():
        holder = next((row for row in active if row.request_id == found.request_id), None)
        counseling.append(
            Item(
                request_id=found.request_id,
                code=found.code,
                status=found.status,
                category=found.topic,
                due_at=answer_due.get(found.request_id),
                deadline="answer",
                at=found.received_at,
                member_id=holder.member_id if holder else None,
                display_name=names.get(holder.member_id) if holder else None,
            )
        )
    coming, passed = [], []
    for case_id, found in clocks.items():
        for deadline, due in found:
            item = _case_item(cases[case_id], due, deadline=deadline)
            (coming if due >= now else passed).append(item)
    return Dashboard(
        now=now,
        waiting=_sorted(waiting),
        unanswered=_sorted(unanswered),
        declined=_sorted(declined),
        deadlines_coming=_sorted(coming),
        deadlines_passed=_sorted(passed),
        escalated=_sorted(_escalations(timers, cases, requests, held, unmet)),
        opinions_in=_sorted(opinions_in),
        counseling=_sorted(counseling),
    )


def _escalations(timers: list[Row], cases: dict, requests: dict, held: list[Row], unmet) -> list[Item]:
    """Deadlines escalated to the chair or the committee and still not met, the highest level each."""
    pending = {row.assignment_id for row in held if row.status == "pending"}
    best: dict[tuple, Row] = {}
    for timer in timers:
        if timer.stage == "reminder" or timer.fired_at is None or timer.outcome != "emitted":
            continue
        if timer.assignment_id is not None and timer.assignment_id not in pending:
            continue
        if timer.case_id is not None and not (timer.case_id in cases and unmet(cases[timer.case_id], timer.deadline)):
            continue
        key = (timer.case_id, timer.request_id, timer.assignment_id, timer.deadline)
        if key not in best or STAGE_RANK[timer.stage] > STAGE_RANK[best[key].stage]:
            best[key] = timer
    items = []
    for timer in best.values():
        values = {"deadline": timer.deadline, "level": timer.stage, "at": timer.fired_at}
        if timer.case_id is not None:
            items.append(_case_item(cases[timer.case_id], timer.due_at, **values))
        elif timer.request_id in requests:
            found = requests[timer.request_id]
            items.append(Item(request_id=found.request_id, code=found.code, due_at=timer.due_at, **values))
    return items


class SuggestionOut(BaseModel):
    field: str
    member_id: uuid.UUID
    display_name: str
    organisation: str
    rank: int | None = Field(description="1 = the member the policy would pick; none when it would skip them.")
    eligible: bool
    covers_unit: bool
    load: int
    capacity: int
    available: bool = Field(description="In their active period and not on leave today.")
    excluded: bool = Field(description="Declined this field of the case, or was removed from it.")
    on_case: bool


@router.get(
    "/cases/{case_id}/suggestions",
    response_model=list[SuggestionOut],
    summary="Who the policy would give each field of the case, best first, with the reasons",
)
async def suggestions(request: Request, case_id: uuid.UUID, _chair: Chair) -> list[SuggestionOut]:
    runtime = runtime_of(request)
    a = store.assignments.c
    async with runtime.sessions() as session:
        case = (await session.execute(select(store.cases).where(store.cases.c.case_id == case_id))).first()
        if case is None:
            raise NotFound("No such case.", "Không tìm thấy vụ việc.")
        pool = await load_pool(session, runtime.clock.now(), case.unit)
        rows = list(await session.execute(select(a.member_id, a.field, a.status).where(a.case_id == case_id)))
    on_case = {row.member_id for row in rows if row.status in ACTIVE}
    out = []
    for wanted in case.required_fields:
        excluded = {row.member_id for row in rows if row.field == wanted and row.status in ("declined", "removed")}
        for s in suggest(wanted, case.unit, pool.candidates, excluded=excluded, on_case=on_case):
            member = pool.rows[s.member_id]
            out.append(
                SuggestionOut(
                    display_name=member.display_name,
                    organisation=member.organisation,
                    **{k: getattr(s, k) for k in SuggestionOut.model_fields if hasattr(s, k)},
                )
            )
    return out


class LoadOut(BaseModel):
    member_id: uuid.UUID
    load: int = Field(description="Open cases and counseling requests the member holds a field of.")
    available: bool


@router.get("/members/loads", response_model=list[LoadOut], summary="Each assignable member's current load")
async def loads(request: Request, _chair: Chair) -> list[LoadOut]:
    runtime = runtime_of(request)
    async with runtime.sessions() as session:
        pool = await load_pool(session, runtime.clock.now())
    return [LoadOut(member_id=c.member_id, load=c.load, available=c.available) for c in pool.candidates]
