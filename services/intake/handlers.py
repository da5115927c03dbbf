"""Events intake listens to: the case's state (shown to reporters), the members on a case (who may then
read it), the member given a counseling request (who may then read its words) and the club's answer to a
counseling request (shown at the tracking-code lookup)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert

from services.intake import store
from services.intake.cases import counseling_answer_context
from services.intake.settings import IntakeSettings
from shared.consumer import Handler, HandlerContext
from shared.crypto import FieldCipher
from shared.db import execute_in_transaction
from shared.events import Event
from shared.events.routing import (
    CaseAssigned,
    CaseMembersChanged,
    CaseStatusChanged,
    CounselingRequestAnswered,
    CounselingRequestAssigned,
)
from shared.sealed import Sealer, answer_context

# The case events' statements, sent as written on the consumer's transaction (`execute_in_transaction`).
# Only a newer transition moves the state, so a late redelivery cannot roll it back.
_STATUS = """UPDATE intake.cases SET status = $2, status_changed_at = $3
    WHERE id = $1 AND (status_changed_at IS NULL OR status_changed_at <= $3)"""
# A member's row moves only for a change at least as recent as the one recorded; one statement for every member.
_MEMBERS = """INSERT INTO intake.case_members AS m (case_id, member_id, on_case, changed_at)
    SELECT $1, member_id, $3, $4 FROM unnest($2::uuid[]) AS member_id
    ON CONFLICT (case_id, member_id) DO UPDATE SET on_case = excluded.on_case, changed_at = excluded.changed_at
    WHERE m.changed_at <= excluded.changed_at"""


async def on_case_status_changed(event: CaseStatusChanged, ctx: HandlerContext) -> None:
    await execute_in_transaction(
        await ctx.session.connection(), _STATUS, (event.case_id, event.to_status, event.changed_at)
    )


async def _set_members(
    ctx: HandlerContext, case_id: uuid.UUID, members: set[uuid.UUID], on_case: bool, at: datetime
) -> None:
    """Record members as on (or off) the case, unless a later change about them is already recorded."""
    if not members:
        return
    await execute_in_transaction(await ctx.session.connection(), _MEMBERS, (case_id, sorted(members), on_case, at))


async def on_case_assigned(event: CaseAssigned, ctx: HandlerContext) -> None:
    members = {a.member.member_id for a in event.assignments if a.member.member_id is not None}
    await _set_members(ctx, event.case_id, members, True, event.assigned_at)


async def on_case_members_changed(event: CaseMembersChanged, ctx: HandlerContext) -> None:
    added = {a.member.member_id for a in event.added if a.member.member_id is not None}
    removed = {r.member_id for r in event.removed if r.member_id is not None} - added
    await _set_members(ctx, event.case_id, added, True, event.changed_at)
    await _set_members(ctx, event.case_id, removed, False, event.changed_at)


def answered_handler(cipher: FieldCipher, sealer: Sealer) -> Handler:
    """The club's answer arrives sealed for intake (`shared.sealed`); it is kept encrypted at rest."""

    async def on_counseling_request_answered(event: CounselingRequestAnswered, ctx: HandlerContext) -> None:
        r = store.counseling_requests.c
        sealed = event.answer.get("intake")
        text = sealer.open("intake", sealed, answer_context(event.request_id)) if sealed else None
        answer = cipher.encrypt_optional(text, counseling_answer_context(event.request_id))
        await ctx.session.execute(
            store.counseling_requests.update()
            .where(r.id == event.request_id)
            .values(status="answered", answer_text=answer, answered_at=event.answered_at)
        )

    return on_counseling_request_answered  # type: ignore[return-value]


async def on_counseling_request_assigned(event: CounselingRequestAssigned, ctx: HandlerContext) -> None:
    member_id = event.assignment.member.member_id
    if member_id is None:
        return
    await ctx.session.execute(
        insert(store.counseling_members)
        .values(request_id=event.request_id, member_id=member_id, assigned_at=event.assigned_at)
        .on_conflict_do_nothing()
    )


def make_handlers(settings: IntakeSettings) -> dict[type[Event], Handler]:
    """Every event intake consumes (the catalogue's `CONSUMERS`), by type."""
    return {
        CaseStatusChanged: on_case_status_changed,
        CaseAssigned: on_case_assigned,
        CaseMembersChanged: on_case_members_changed,
        CounselingRequestAnswered: answered_handler(
            FieldCipher.from_settings(settings), Sealer.from_settings(settings)
        ),
        CounselingRequestAssigned: on_counseling_request_assigned,
    }
