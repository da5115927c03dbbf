"""Tasks the provincial Standing Committee assigns to the club (nhiệm vụ do Ban Thường vụ Tỉnh đoàn giao).

A committee member creates a task with the fields it needs; it is routed like a case: `domain.choose`
picks one available member per field (the unit criterion first when the task names a commune), under the
same assignment lock. A task carries no child data. When every assignee has reported their part, the
task is done (`task.completed`).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store
from services.routing.assignments import _serialise_assignment
from services.routing.deadlines import VN
from services.routing.domain import choose
from services.routing.roster import candidates, members_by_id, recipient
from shared.events.routing import TaskAssigned, TaskAssignee, TaskCompleted
from shared.uow import UnitOfWork


async def next_code(session: AsyncSession, year: int) -> str:
    """NV-<year>-<nnn>, one sequence per year (the advisory lock makes concurrent creations wait)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('routing:task-code'))"))
    prefix = f"NV-{year}-"
    t = store.tasks.c
    count = (await session.execute(select(func.count()).where(t.code.like(f"{prefix}%")))).scalar_one()
    return f"{prefix}{count + 1:03d}"


async def create_task(
    fx: UnitOfWork,
    *,
    title_vi: str,
    details_vi: str,
    fields: list[str],
    unit: str | None,
    due_on: date,
    created_by: uuid.UUID,
) -> uuid.UUID:
    session = fx.session
    task_id = uuid.uuid4()
    code = await next_code(session, fx.now.astimezone(VN).year)
    await session.execute(
        store.tasks.insert().values(
            task_id=task_id,
            code=code,
            title_vi=title_vi,
            details_vi=details_vi,
            fields=fields,
            unit=unit,
            due_on=due_on,
            status="assigned",
            created_by=created_by,
            created_at=fx.now,
        )
    )
    await _serialise_assignment(session)
    choice = choose(fields, unit, await candidates(session, fx.now, unit))
    members = await members_by_id(session)
    assignees = [TaskAssignee(field=f, member=recipient(members[m])) for f, m in choice.picks.items()]  # type: ignore[arg-type]
    if choice.picks:
        await session.execute(
            store.task_assignments.insert(),
            [dict(task_id=task_id, field=f, member_id=m, assigned_at=fx.now) for f, m in choice.picks.items()],
        )
    await fx.emit(
        TaskAssigned(
            task_id=task_id,
            code=code,
            title_vi=title_vi,
            fields=tuple(fields),  # type: ignore[arg-type]
            unit=unit,
            due_on=due_on,
            assignees=tuple(assignees),
            missing_fields=choice.missing,
            assigned_at=fx.now,
        ),
        task_id,
    )
    return task_id


async def report_part(fx: UnitOfWork, task: Row, member_id: uuid.UUID, report_vi: str) -> None:
    """An assignee reports their part done; the last one completes the task."""
    ta = store.task_assignments.c
    await fx.session.execute(
        store.task_assignments.update()
        .where(ta.task_id == task.task_id, ta.member_id == member_id, ta.reported_at.is_(None))
        .values(reported_at=fx.now, report_vi=report_vi)
    )
    open_parts = (
        await fx.session.execute(select(func.count()).where(ta.task_id == task.task_id, ta.reported_at.is_(None)))
    ).scalar_one()
    if open_parts == 0 and task.status != "done":
        await fx.session.execute(
            store.tasks.update().where(store.tasks.c.task_id == task.task_id).values(status="done", completed_at=fx.now)
        )
        await fx.emit(
            TaskCompleted(task_id=task.task_id, code=task.code, due_on=task.due_on, completed_at=fx.now), task.task_id
        )
