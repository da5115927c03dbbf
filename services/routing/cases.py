"""The case's record and states: recording a reported case, its own deadlines, and moving it between
states (each move checked by `domain.check_transition` and announced with `case.status_changed`).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store
from services.routing.deadlines import add_working_days, ladder, needs_support_plan
from services.routing.domain import check_transition
from services.routing.freetext import case_cipher_of, outcome_context
from services.routing.settings import RoutingSettings
from shared.db import fetch_value_in_transaction
from shared.errors import NotFound
from shared.events import Envelope
from shared.events.intake import CaseReported
from shared.events.routing import (
    CaseStatusChanged,
)
from shared.uow import UnitOfWork


async def record_new_case(fx: UnitOfWork, event: CaseReported, envelope: Envelope | None = None) -> bool:
    """Record the case, once however often `case.reported` arrives (False for a repeat). Its fields,
    experts and deadlines are settled by `assigner.assign_pending`, many cases per transaction: this
    handler is one INSERT, so the consumer keeps up with a burst of reports."""
    parameters = (
        event.case_id,
        event.code,
        event.unit,
        event.category,
        event.urgency,
        event.protection_level,
        event.reported_at,
        event.learned_at or event.reported_at,
        fx.now,
        envelope.event_id if envelope else None,
        envelope.correlation_id if envelope else None,
    )
    inserted = await fetch_value_in_transaction(await fx.session.connection(), _RECORD_CASE, parameters)
    return inserted is not None


# Sent as written (`fetch_value_in_transaction`): the consumer's hot statement, one per case.
_RECORD_CASE = """INSERT INTO routing.cases (case_id, code, unit, category, urgency, protection_level, status,
        reported_at, learned_at, updated_at, assign_pending, reported_event_id, correlation_id)
    VALUES ($1, $2, $3, $4, $5, $6, 'reported', $7, $8, $9, true, $10, $11)
    ON CONFLICT DO NOTHING RETURNING case_id"""


def case_deadlines(settings: RoutingSettings, case: Any) -> list[Any]:
    """The case's own deadlines (not the members' acceptance): emergency intervention, support plan.

    The 12-hour emergency clock starts when the reporter learned of the case (`learned_at`), not when
    the system received it: a case learned of at night and filed in the morning has already used hours.
    """
    planned = []
    if case.urgency == "critical":
        started = case.learned_at or case.reported_at
        due = started + timedelta(hours=settings.emergency_intervention_hours)
        planned += ladder("emergency_intervention", due, timedelta(hours=settings.emergency_escalation_step_hours))
    if needs_support_plan(case.protection_level):
        planned += ladder("support_plan", add_working_days(case.reported_at, settings.support_plan_working_days))
    return planned


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
        cipher = await case_cipher_of(fx.session, fx.settings, case_id, create_at=fx.now)
        stored = cipher.encrypt_optional(outcome, outcome_context(case_id))
        values.update(outcome=stored, closed_at=fx.now)
    await fx.session.execute(
        store.cases.update().where(store.cases.c.case_id == case_id).values(status=to, updated_at=fx.now, **values)
    )
    await fx.emit(
        CaseStatusChanged(case_id=case_id, code=case.code, from_status=case.status, to_status=to, changed_at=fx.now),
        case_id,
    )
    return case
