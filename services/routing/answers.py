"""Answers and hand-overs: a member accepts or declines an assignment, the chair changes a case's members,
a member goes on leave; what a member gives up is handed to the next candidates (`hand_over`).
Called from the HTTP API, the links and the timers inside the caller's unit of work; events go through
`UnitOfWork.emit` (`shared.uow`) into the outbox of that same transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store
from services.routing.assignments import (
    AssignmentBatch,
    _serialise_assignment,
    create_assignment,
)
from services.routing.cases import locked_case, move_case
from services.routing.counseling import _give_request, tell_chair_nobody_available
from services.routing.deadlines import VN
from services.routing.domain import decide, is_available
from services.routing.roster import (
    ACTIVE,
    candidates,
    chair_recipients,
    members_by_id,
    recipient,
)
from shared.errors import Conflict, Forbidden, NotFound
from shared.events.routing import (
    AssignmentAnswered,
    AssignmentInfo,
    CaseMembersChanged,
)
from shared.uow import UnitOfWork


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
            # The same decision as for a new case (`domain.decide`), without the board's places.
            decision = decide(
                [assignment.field],
                case.unit,
                await candidates(fx.session, fx.now, case.unit),
                urgency=case.urgency,
                excluded={assignment.field: await _excluded_for(fx.session, assignment)},
                already_on_subject=await _active_on_case(fx.session, case_id),
            )
            missing.extend(decision.missing)
            batch = AssignmentBatch(fx.settings, fx.now)
            added += [
                batch.add(members[member_id], field, case.urgency, case_id=case_id)
                for member_id, field in decision.picks
            ]
            await batch.write(fx.session)  # before the next decision, which reads the members' loads
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
