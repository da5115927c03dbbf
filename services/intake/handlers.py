"""Events intake listens to: the case's state (shown to reporters), the members on a case (who may then
read it), the member given a counseling request (who may then read its words) and the club's answer to a
counseling request (shown at the tracking-code lookup)."""

from __future__ import annotations

import uuid
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import bindparam, or_
from sqlalchemy.dialects.postgresql import insert

from services.intake import store
from services.intake.cases import counseling_answer_context
from services.intake.settings import IntakeSettings
from shared.consumer import Handler, HandlerContext
from shared.crypto import FieldCipher
from shared.events import Event
from shared.events.routing import (
    CaseAssigned,
    CaseMembersChanged,
    CaseStatusChanged,
    CounselingRequestAnswered,
    CounselingRequestAssigned,
)
from shared.sealed import Sealer, answer_context


def _statements() -> SimpleNamespace:
    """The statements the case events run, built once: a construct built per event was cache-keyed (and, for
    a multi-row VALUES of a new length, compiled) anew each time, more CPU than intake's own POST."""
    c, m = store.cases.c, store.case_members
    upsert = insert(m)
    return SimpleNamespace(
        # Only a newer transition moves the state, so a late redelivery cannot roll it back.
        status=store.cases.update()
        .where(
            c.id == bindparam("case_id"),
            or_(c.status_changed_at.is_(None), c.status_changed_at <= bindparam("changed_at")),
        )
        .values(status=bindparam("to_status"), status_changed_at=bindparam("changed_at")),
        # A member's row moves only for a change at least as recent as the one recorded.
        members=upsert.on_conflict_do_update(
            index_elements=["case_id", "member_id"],
            set_={"on_case": upsert.excluded.on_case, "changed_at": upsert.excluded.changed_at},
            where=m.c.changed_at <= upsert.excluded.changed_at,
        ),
    )


_SQL = _statements()


async def on_case_status_changed(event: CaseStatusChanged, ctx: HandlerContext) -> None:
    await ctx.session.execute(
        _SQL.status, {"case_id": event.case_id, "to_status": event.to_status, "changed_at": event.changed_at}
    )


async def _set_members(
    ctx: HandlerContext, case_id: uuid.UUID, members: set[uuid.UUID], on_case: bool, at: datetime
) -> None:
    """Record members as on (or off) the case, unless a later change about them is already recorded."""
    if not members:
        return
    await ctx.session.execute(
        _SQL.members,
        [{"case_id": case_id, "member_id": member, "on_case": on_case, "changed_at": at} for member in members],
    )


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
