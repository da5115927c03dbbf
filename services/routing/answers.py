"""What happens to a case or a counseling request, with the database: assignment, answers, hand-overs,
state changes. Called from event handlers, the HTTP API and the timers, always inside the caller's
transaction; events go through `UnitOfWork.emit` (`shared.uow`) into the outbox of that same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store
from services.routing.deadlines import VN, add_working_days, ladder, needs_support_plan
from services.routing.domain import Candidate, check_transition, choose, is_available
from services.routing.links import link_url
from services.routing.pool import Pool, load_pool
from services.routing.settings import RoutingSettings
from shared.errors import Conflict, Forbidden, NotFound
from shared.events import Envelope, Recipient
from shared.events.intake import CaseReported, CounselingRequestReceived
from shared.events.routing import (
    AssignmentAnswered,
    AssignmentInfo,
    CaseEscalated,
    CaseMembersChanged,
    CaseStatusChanged,
    CounselingRequestAssigned,
)
from shared.uow import UnitOfWork

ACTIVE = ("pending", "accepted")


# --- reading the registry ----------------------------------------------------------------------------


def recipient(member: Row) -> Recipient:
    return Recipient(
        member_id=member.member_id,
        display_name=member.display_name,
        email=member.email,
        zalo_user_id=member.zalo_user_id,
        channels=tuple(member.channels) or ("email", "zalo"),
        quiet_start=member.quiet_start,
        quiet_end=member.quiet_end,
    )


async def members_by_id(session: AsyncSession) -> dict[uuid.UUID, Row]:
    return {row.member_id: row for row in await session.execute(select(store.members))}


async def with_roles(session: AsyncSession, *roles: str) -> list[Row]:
    result = await session.execute(
        select(store.members).where(store.members.c.club_role.in_(roles)).order_by(store.members.c.key)
    )
    return list(result)


async def chair_recipients(session: AsyncSession) -> tuple[Recipient, ...]:
    """The chair; the vice-chairs stand in when the club has no chair."""
    rows = await with_roles(session, "chair") or await with_roles(session, "vice_chair")
    return tuple(recipient(r) for r in rows)


async def committee_recipients(session: AsyncSession) -> tuple[Recipient, ...]:
    return tuple(recipient(r) for r in await with_roles(session, "committee"))


async def candidates(session: AsyncSession, now: datetime, unit: str | None = None) -> list[Candidate]:
    return (await load_pool(session, now, unit)).candidates


def chair_of(pool: Pool) -> tuple[Recipient, ...]:
    """`chair_recipients` from rows already loaded (the chair and vice-chairs are assignable)."""
    return tuple(recipient(r) for r in pool.with_roles("chair") or pool.with_roles("vice_chair"))


async def _serialise_assignment(session: AsyncSession) -> None:
    """One assignment decision at a time across replicas, so two cases cannot both take a member's last slot."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('routing:assign'))"))


# --- creating assignments ----------------------------------------------------------------------------


async def create_assignment(
    fx: UnitOfWork,
    member: Row,
    field: str | None,
    urgency: str,
    *,
    case_id: uuid.UUID | None = None,
    request_id: uuid.UUID | None = None,
) -> AssignmentInfo:
    """Record an assignment, plan its acceptance reminder and escalations, and describe it for notify."""
    (info,) = await create_assignments(fx, [(member, field)], urgency, case_id=case_id, request_id=request_id)
    return info


async def create_assignments(
    fx: UnitOfWork,
    picks: list[tuple[Row, str | None]],
    urgency: str,
    *,
    case_id: uuid.UUID | None = None,
    request_id: uuid.UUID | None = None,
) -> list[AssignmentInfo]:
    """`create_assignment` for several members at once: two INSERTs whatever their number (this runs
    inside the assignment lock, so round trips cost throughput)."""
    if not picks:
        return []
    window = timedelta(hours=fx.settings.accept_within_hours(urgency))
    rows, timer_rows, infos = [], [], []
    for member, field in picks:
        row, timers, info = plan_assignment(
            fx.settings, member, field, now=fx.now, window=window, case_id=case_id, request_id=request_id
        )
        rows.append(row)
        timer_rows.extend(timers)
        infos.append(info)
    await fx.session.execute(store.assignments.insert(), rows)
    await fx.session.execute(store.timers.insert(), timer_rows)
    return infos


def plan_assignment(
    settings: RoutingSettings,
    member: Row,
    field: str | None,
    *,
    now: datetime,
    window: timedelta,
    case_id: uuid.UUID | None,
    request_id: uuid.UUID | None,
) -> tuple[dict[str, Any], list[dict[str, Any]], AssignmentInfo]:
    """One assignment, not yet written: its row, its acceptance reminder and escalation timers, and how
    notify will describe it (with the signed accept/decline links)."""
    assignment_id = uuid.uuid4()
    respond_by = now + window
    row = {
        "assignment_id": assignment_id,
        "case_id": case_id,
        "request_id": request_id,
        "member_id": member.member_id,
        "field": field,
        "status": "pending",
        "assigned_at": now,
        "respond_by": respond_by,
    }
    timers = _timer_rows(ladder("acceptance", respond_by, window), case_id, request_id, assignment_id)
    ttl = timedelta(hours=settings.link_ttl_hours)
    links = {
        action: link_url(
            settings.public_base_url, settings.link_path, settings.link_secret, assignment_id, action, now, ttl
        )
        for action in ("accept", "decline")
    }
    info = AssignmentInfo(
        assignment_id=assignment_id,
        field=field,
        member=recipient(member),
        respond_by=respond_by,
        accept_url=links["accept"],
        decline_url=links["decline"],
    )
    return row, timers, info


def _timer_rows(
    planned: Iterable[Any],
    case_id: uuid.UUID | None,
    request_id: uuid.UUID | None,
    assignment_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    return [
        {
            "case_id": case_id,
            "request_id": request_id,
            "assignment_id": assignment_id,
            "deadline": p.deadline,
            "stage": p.stage,
            "due_at": p.due_at,
            "fire_at": p.fire_at,
        }
        for p in planned
    ]


async def plan_timers(
    fx: UnitOfWork,
    planned: Iterable[Any],
    case_id: uuid.UUID | None,
    request_id: uuid.UUID | None,
    assignment_id: uuid.UUID | None = None,
) -> None:
    rows = _timer_rows(planned, case_id, request_id, assignment_id)
    if rows:
        await fx.session.execute(store.timers.insert(), rows)


async def required_fields(session: AsyncSession, category: str) -> list[str]:
    row = (await session.execute(select(store.categories).where(store.categories.c.code == category))).first()
    return list(row.fields) if row is not None else []


async def record_new_case(fx: UnitOfWork, event: CaseReported, envelope: Envelope | None = None) -> bool:
    """Record the case, once however often `case.reported` arrives (False for a repeat). Its fields,
    experts and deadlines are settled by `assigner.assign_pending`, many cases per transaction: this
    handler is one INSERT, so the consumer keeps up with a burst of reports."""
    inserted = (
        await fx.session.execute(
            pg_insert(store.cases)
            .values(
                case_id=event.case_id,
                code=event.code,
                unit=event.unit,
                category=event.category,
                urgency=event.urgency,
                protection_level=event.protection_level,
                status="reported",
                reported_at=event.reported_at,
                updated_at=fx.now,
                assign_pending=True,
                reported_event_id=envelope.event_id if envelope else None,
                correlation_id=envelope.correlation_id if envelope else None,
            )
            .on_conflict_do_nothing()
            .returning(store.cases.c.case_id)
        )
    ).first()
    return inserted is not None


def case_deadlines(settings: RoutingSettings, case: Any) -> list[Any]:
    """The case's own deadlines (not the members' acceptance): emergency intervention, support plan."""
    planned = []
    if case.urgency == "critical":
        due = case.reported_at + timedelta(hours=settings.emergency_intervention_hours)
        planned += ladder("emergency_intervention", due, timedelta(hours=settings.emergency_escalation_step_hours))
    if needs_support_plan(case.protection_level):
        planned += ladder("support_plan", add_working_days(case.reported_at, settings.support_plan_working_days))
    return planned


async def topic_fields(session: AsyncSession, topic: str, default: str) -> list[str]:
    """A topic that is a category code takes the category's fields; any other topic the default fields."""
    return await required_fields(session, topic) or [f for f in default.split(";") if f]


async def assign_new_request(fx: UnitOfWork, event: CounselingRequestReceived) -> None:
    """Record a counseling request and give it to one member with the topic's first coverable field."""
    session = fx.session
    fields = await topic_fields(session, event.topic, fx.settings.counseling_default_fields)
    inserted = (
        await session.execute(
            pg_insert(store.counseling_requests)
            .values(
                request_id=event.request_id,
                code=event.code,
                topic=event.topic,
                channel=event.channel,
                status="received",
                required_fields=fields,
                reply_zalo_user_id=event.reply_zalo_user_id,
                received_at=event.received_at,
            )
            .on_conflict_do_nothing()
            .returning(store.counseling_requests.c.request_id)
        )
    ).first()
    if inserted is None:
        return
    due = add_working_days(event.received_at, fx.settings.counseling_answer_working_days)
    await plan_timers(fx, ladder("answer", due), None, event.request_id)
    await _serialise_assignment(session)
    if await _give_request(fx, event.request_id, event.code, event.topic, fields, excluded=set()) is None:
        await tell_chair_nobody_available(fx, event.request_id, event.code)


async def tell_chair_nobody_available(fx: UnitOfWork, request_id: uuid.UUID, code: str) -> None:
    """Nobody available can take a counseling request: the chair hears it now (notify delivers
    `case.escalated`), rather than when the answer deadline has passed."""
    await fx.emit(
        CaseEscalated(
            request_id=request_id,
            code=code,
            deadline="acceptance",
            due_at=fx.now,
            urgency=fx.settings.counseling_urgency,
            level="chair",
            recipients=await chair_recipients(fx.session),
            escalated_at=fx.now,
            reason="nobody_available",
        ),
        request_id,
    )


async def _give_request(
    fx: UnitOfWork, request_id: uuid.UUID, code: str, topic: str, fields: list[str], excluded: set[uuid.UUID]
) -> AssignmentInfo | None:
    members = await members_by_id(fx.session)
    choice = choose(fields, None, await candidates(fx.session, fx.now), excluded={f: excluded for f in fields})
    if not choice.picks:
        return None
    field, member_id = next(iter(choice.picks.items()))
    info = await create_assignment(fx, members[member_id], field, fx.settings.counseling_urgency, request_id=request_id)
    await fx.session.execute(
        store.counseling_requests.update()
        .where(store.counseling_requests.c.request_id == request_id, store.counseling_requests.c.status != "answered")
        .values(status="assigned")
    )
    await fx.emit(
        CounselingRequestAssigned(request_id=request_id, code=code, topic=topic, assignment=info, assigned_at=fx.now),
        request_id,
    )
    return info


# --- the case's states -------------------------------------------------------------------------------


async def locked_case(session: AsyncSession, case_id: uuid.UUID) -> Row:
    row = (await session.execute(select(store.cases).where(store.cases.c.case_id == case_id).with_for_update())).first()
    if row is None:
        raise NotFound("No such case.", "Không tìm thấy vụ việc.")
    return row


async def move_case(fx: UnitOfWork, case_id: uuid.UUID, to: str, *, outcome: str | None = None, **values: Any) -> Row:
    """Apply one allowed transition (ForbiddenTransition otherwise, changing nothing) and announce it."""
    case = await locked_case(fx.session, case_id)
    check_transition(case.status, to)
    if to == "closed":
        values.update(outcome=outcome, closed_at=fx.now)
    await fx.session.execute(
        store.cases.update().where(store.cases.c.case_id == case_id).values(status=to, updated_at=fx.now, **values)
    )
    await fx.emit(
        CaseStatusChanged(
            case_id=case_id, code=case.code, from_status=case.status, to_status=to, changed_at=fx.now, outcome=outcome
        ),
        case_id,
    )
    return case


# --- answers and hand-overs --------------------------------------------------------------------------


async def locked_assignment(session: AsyncSession, assignment_id: uuid.UUID) -> Row:
    row = (
        await session.execute(
            select(store.assignments).where(store.assignments.c.assignment_id == assignment_id).with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound("No such assignment.", "Không tìm thấy phân công.")
    return row


async def answer_assignment(
    fx: UnitOfWork, assignment_id: uuid.UUID, accept: bool, *, as_member: uuid.UUID | None = None
) -> Row:
    """A member accepts or declines. A decline hands the field to the next candidate.

    Locks the case before the assignment, the order every other unit of work uses (the chair's member
    changes, a leave's hand-over), so an answer and a change to the same case queue instead of deadlocking.
    """
    subject = (
        await fx.session.execute(
            select(store.assignments.c.case_id).where(store.assignments.c.assignment_id == assignment_id)
        )
    ).first()
    if subject is not None and subject.case_id is not None:
        await locked_case(fx.session, subject.case_id)
    assignment = await locked_assignment(fx.session, assignment_id)
    if as_member is not None and assignment.member_id != as_member:
        raise Forbidden("This assignment is another member's.", "Phân công này thuộc về thành viên khác.")
    if assignment.status != "pending":
        raise Conflict(
            f"This assignment is already {assignment.status}.", f"Phân công này đã ở trạng thái {assignment.status}."
        )
    status = "accepted" if accept else "declined"
    await fx.session.execute(
        store.assignments.update()
        .where(store.assignments.c.assignment_id == assignment_id)
        .values(status=status, answered_at=fx.now, ended_reason=None if accept else "declined")
    )
    key = assignment.case_id or assignment.request_id
    await fx.emit(
        AssignmentAnswered(
            case_id=assignment.case_id,
            request_id=assignment.request_id,
            assignment_id=assignment_id,
            member_id=assignment.member_id,
            accepted=accept,
            answered_at=fx.now,
        ),
        key,
    )
    if accept:
        if assignment.case_id is not None:
            case = await locked_case(fx.session, assignment.case_id)
            if case.status == "assigned":
                await move_case(fx, case.case_id, "accepted")
        else:
            await fx.session.execute(
                store.counseling_requests.update()
                .where(
                    store.counseling_requests.c.request_id == assignment.request_id,
                    store.counseling_requests.c.status == "assigned",
                )
                .values(status="accepted")
            )
    else:
        await hand_over(fx, [assignment], "declined")
    return assignment


async def _excluded_for(session: AsyncSession, assignment: Row) -> set[uuid.UUID]:
    """Members who already gave up or lost this field of this case or request."""
    a = store.assignments.c
    subject = a.case_id == assignment.case_id if assignment.case_id else a.request_id == assignment.request_id
    rows = await session.execute(
        select(a.member_id).where(subject, a.field == assignment.field, a.status.in_(("declined", "removed")))
    )
    return {row.member_id for row in rows}


async def _active_on_case(session: AsyncSession, case_id: uuid.UUID) -> set[uuid.UUID]:
    a = store.assignments.c
    rows = await session.execute(select(a.member_id).where(a.case_id == case_id, a.status.in_(ACTIVE)))
    return {row.member_id for row in rows}


async def hand_over(fx: UnitOfWork, ended: list[Row], reason: str) -> None:
    """Give the fields of assignments that just ended (declined, or their member went on leave) to the
    next candidates, and tell everyone concerned: one `case.members_changed` per case."""
    if not ended:
        return
    await _serialise_assignment(fx.session)
    members = await members_by_id(fx.session)
    by_case: dict[uuid.UUID, list[Row]] = {}
    for assignment in ended:
        if assignment.request_id is not None:
            request = (
                await fx.session.execute(
                    select(store.counseling_requests).where(
                        store.counseling_requests.c.request_id == assignment.request_id
                    )
                )
            ).one()
            if request.status != "answered":
                excluded = await _excluded_for(fx.session, assignment)
                fields = [assignment.field] if assignment.field else list(request.required_fields)
                given = await _give_request(fx, request.request_id, request.code, request.topic, fields, excluded)
                if given is None:
                    await fx.session.execute(
                        store.counseling_requests.update()
                        .where(store.counseling_requests.c.request_id == request.request_id)
                        .values(status="received")
                    )
                    await tell_chair_nobody_available(fx, request.request_id, request.code)
            continue
        by_case.setdefault(assignment.case_id, []).append(assignment)
    for case_id, assignments in by_case.items():
        case = await locked_case(fx.session, case_id)
        added: list[AssignmentInfo] = []
        missing: list[str] = []
        for assignment in assignments:
            if assignment.field is None or case.status == "closed":
                continue  # the chair's own place on a critical case is not handed to anyone else
            choice = choose(
                [assignment.field],
                case.unit,
                await candidates(fx.session, fx.now, case.unit),
                excluded={assignment.field: await _excluded_for(fx.session, assignment)},
                already_on_subject=await _active_on_case(fx.session, case_id),
            )
            missing.extend(choice.missing)
            for field, member_id in choice.picks.items():
                added.append(await create_assignment(fx, members[member_id], field, case.urgency, case_id=case_id))
        await fx.emit(
            CaseMembersChanged(
                case_id=case_id,
                code=case.code,
                urgency=case.urgency,
                reason=reason,
                added=tuple(added),
                removed=tuple(recipient(members[a.member_id]) for a in assignments),
                changed_at=fx.now,
                missing_fields=tuple(missing),
                chair=await chair_recipients(fx.session) if missing else (),
            ),
            case_id,
        )


async def chair_changes_members(
    fx: UnitOfWork, case_id: uuid.UUID, add: list[tuple[uuid.UUID, str | None]], remove: list[uuid.UUID]
) -> CaseMembersChanged:
    """The chair adds, removes or replaces (remove + add) members on a case."""
    case = await locked_case(fx.session, case_id)
    if case.status == "closed":
        raise Conflict("The case is closed; reopen it first.", "Vụ việc đã đóng; hãy mở lại trước.")
    members = await members_by_id(fx.session)
    for member_id, _field in add:
        if member_id not in members or members[member_id].club_role == "committee":
            raise NotFound(
                f"No club member {member_id} who can take a case.",
                f"Không có thành viên {member_id} của câu lạc bộ có thể nhận vụ việc.",
            )
    a = store.assignments.c
    removed_rows = []
    for member_id in remove:
        rows = list(
            await fx.session.execute(
                store.assignments.update()
                .where(a.case_id == case_id, a.member_id == member_id, a.status.in_(ACTIVE))
                .values(status="removed", ended_reason="chair", answered_at=fx.now)
                .returning(a.member_id)
            )
        )
        if not rows:
            raise Conflict(
                f"Member {member_id} holds no assignment on this case.",
                f"Thành viên {member_id} không được phân công trong vụ việc này.",
            )
        removed_rows.append(members[member_id])
    added = [
        await create_assignment(fx, members[member_id], field, case.urgency, case_id=case_id)
        for member_id, field in add
    ]
    event = CaseMembersChanged(
        case_id=case_id,
        code=case.code,
        urgency=case.urgency,
        reason="chair",
        added=tuple(added),
        removed=tuple(recipient(m) for m in removed_rows),
        changed_at=fx.now,
    )
    await fx.emit(event, case_id)
    if added and case.status == "reported":
        await move_case(fx, case_id, "assigned")
    return event


async def member_goes_on_leave(fx: UnitOfWork, member_id: uuid.UUID, starts_on: Any, ends_on: Any) -> None:
    """Record a leave; if it has begun, hand the member's open assignments to the next candidates."""
    await fx.session.execute(store.leaves.insert().values(member_id=member_id, starts_on=starts_on, ends_on=ends_on))
    await release_if_unavailable(fx, member_id)


async def release_if_unavailable(fx: UnitOfWork, member_id: uuid.UUID) -> None:
    """A member on leave today or outside their active period keeps no open assignment: each goes to the
    next candidate (`case.members_changed`, reason `leave`). A leave (or the end of the active period)
    still ahead gets a `leave_start` timer that calls this again on its first day."""
    member = (await fx.session.execute(select(store.members).where(store.members.c.member_id == member_id))).one()
    periods = [
        (row.starts_on, row.ends_on)
        for row in await fx.session.execute(select(store.leaves).where(store.leaves.c.member_id == member_id))
    ]
    await plan_leave_starts(fx, member_id, [start for start, _ in periods], member.active_to)
    if is_available(fx.now.astimezone(VN).date(), member.active_from, member.active_to, periods):
        return
    a, c, r = store.assignments.c, store.cases.c, store.counseling_requests.c
    # Cases before assignments (and cases in one order), as in `answer_assignment` and the chair's changes.
    held = select(a.case_id).where(a.member_id == member_id, a.status.in_(ACTIVE), a.case_id.is_not(None))
    await fx.session.execute(
        select(c.case_id).where(c.case_id.in_(held)).order_by(c.case_id).with_for_update(of=store.cases)
    )
    rows = list(
        await fx.session.execute(
            select(store.assignments)
            .outerjoin(store.cases, c.case_id == a.case_id)
            .outerjoin(store.counseling_requests, r.request_id == a.request_id)
            .where(a.member_id == member_id, a.status.in_(ACTIVE))
            .where((c.status.is_(None)) | (c.status != "closed"))
            .where((r.status.is_(None)) | (r.status != "answered"))
            .with_for_update(of=store.assignments)
        )
    )
    if not rows:
        return
    await fx.session.execute(
        store.assignments.update()
        .where(a.assignment_id.in_([r.assignment_id for r in rows]))
        .values(status="removed", ended_reason="leave", answered_at=fx.now)
    )
    await hand_over(fx, rows, "leave")


LEAVE_START = "leave_start"


async def plan_leave_starts(fx: UnitOfWork, member_id: uuid.UUID, starts: list[Any], active_to: Any) -> None:
    """One `leave_start` timer per day ahead on which the member stops being available (a leave's first
    day, the day after their active period), at 00:00 Vietnam time; none twice for the same day."""
    today = fx.now.astimezone(VN).date()
    days = {day for day in starts if day > today}
    if active_to is not None and active_to >= today:
        days.add(active_to + timedelta(days=1))
    if not days:
        return
    t = store.timers.c
    planned = set(
        (
            await fx.session.execute(
                select(t.fire_at).where(t.deadline == LEAVE_START, t.member_id == member_id, t.fired_at.is_(None))
            )
        ).scalars()
    )
    rows = []
    for day in sorted(days):
        at = datetime.combine(day, datetime.min.time(), tzinfo=VN)
        if at not in planned:
            rows.append(
                {"member_id": member_id, "deadline": LEAVE_START, "stage": "reminder", "due_at": at, "fire_at": at}
            )
    if rows:
        await fx.session.execute(store.timers.insert(), rows)
