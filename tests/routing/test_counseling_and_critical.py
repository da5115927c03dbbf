"""Counseling requests are routed like cases; critical cases also reach the chair and vice-chairs; a field
nobody can take is named to the chair."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from devtools.waiting import eventually
from services.routing import store
from services.routing.seed import import_file
from shared.clock import FakeClock
from shared.events import Envelope
from shared.events.intake import CounselingRequestReceived
from tests.routing.support import (
    START,
    as_assignee,
    as_member,
    by_field,
    case_reported,
    emitted,
    publish,
    routing_app,
    routing_settings,
    seeded,
)
from tests.support.sealed import links, opened, reply_to

_STAGE_TIMES = (("reminder", "fire_at"), ("chair", "chair_at"), ("committee", "committee_at"))


async def test_a_counseling_request_goes_to_a_psychologist_whose_answer_is_emitted_for_the_requester(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        request = CounselingRequestReceived(
            request_id=uuid.uuid4(),
            code="TV-2026-000007",
            topic="ap-luc-thi-cu",
            channel="zalo",
            age_band="11-15",
            received_at=START,
        )
        request = request.model_copy(update={"reply_to": reply_to(request.request_id, "8800000000000000123")})
        await publish(settings, Envelope.wrap(request, producer="intake"))
        (assigned,) = await eventually(lambda: emitted(app, "counseling_request.assigned"))
        info = assigned["assignment"]
        assert info["field"] == "psychology" and info["member"]["zalo_user_id"] and links(info)["accept"]

        url = f"/v1/counseling-requests/{request.request_id}/answer"
        body = {"text": "Chào em, em hãy thử chia nhỏ thời gian ôn tập và nghỉ ngơi đủ."}
        other = await as_member(app, "so-tu-phap")  # a lawyer, not holding this request
        assert (await client.post(url, json=body, headers=other)).status_code == 403
        holder = await as_assignee(app, info)
        assert (await client.post(url, json={"text": ""}, headers=holder)).status_code == 422
        assert (await client.post(url, json=body, headers=holder)).status_code == 200
        assert (await client.post(url, json=body, headers=holder)).status_code == 409
        (answered,) = await emitted(app, "counseling_request.answered")
        # The answer travels sealed for intake and for notify; the requester's Zalo id as intake sealed it.
        assert "answer_text" not in answered and "chia nhỏ" not in str(answered)
        context = f"counseling:{request.request_id}:answer"
        assert {c: opened(c, answered["answer"][c], context) for c in answered["answer"]} == {
            "intake": body["text"],
            "notify": body["text"],
        }
        assert opened("notify", answered["reply_to"], f"counseling:{request.request_id}:reply_to") == (
            "8800000000000000123"
        )
        assert answered["answered_by"] == info["member"]["member_id"]


SMALL_CLUB = """key,display_name,organisation,organisation_kind,club_role,fields,units,email,zalo_user_id,capacity
chu-nhiem,Nguyễn Văn An,Tỉnh đoàn,provincial,chair,,,an@club.example,111,3
pho-chu-nhiem,Lê Thị Bình,Tỉnh đoàn,provincial,vice_chair,,,binh@club.example,222,3
luat-su,Trần Văn Cường,Sở Tư pháp,department,member,law,,cuong@club.example,333,3
"""


async def test_a_critical_case_reaches_the_chair_and_vice_chair_and_the_chair_learns_which_field_is_missing(
    base_env, tmp_path: Path
):
    settings = routing_settings(base_env)
    club = tmp_path / "club.csv"
    club.write_text(SMALL_CLUB, encoding="utf-8")
    assert await import_file(settings, club) == 3
    async with routing_app(settings, FakeClock(START)) as (app, _client):
        await publish(settings, case_reported("sexual_abuse", "phuong-tan-ninh", "critical", level="intervention"))
        (assigned,) = await eventually(lambda: emitted(app, "case.assigned"))
        fields = by_field(assigned)
        # law goes to the idle lawyer; the chair and the vice-chair join without a field.
        assert fields["law"]["member"]["display_name"] == "Trần Văn Cường"
        board = sorted(a["member"]["display_name"] for a in assigned["assignments"] if a["field"] is None)
        assert board == ["Lê Thị Bình", "Nguyễn Văn An"]
        assert assigned["missing_fields"] == ["psychology", "medicine"]
        assert [r["display_name"] for r in assigned["chair"]] == ["Nguyễn Văn An"]

        async with app.state.runtime.sessions() as session:
            timers = list(await session.execute(select(store.timers).where(store.timers.c.assignment_id.is_(None))))
        # One row per clock, its reminder, carrying the escalations' times (written as each stage fires).
        assert sorted((t.deadline, t.stage) for t in timers) == [
            ("emergency_intervention", "reminder"),
            ("support_plan", "reminder"),
        ]
        plan = {(t.deadline, stage): getattr(t, column) for t in timers for stage, column in _STAGE_TIMES}
        # Decree 56: emergency intervention within 12 hours; a support plan within 5 working days
        # (Tuesday 1 December 2026 → Tuesday 8 December), each with its reminder and two escalations.
        assert plan[("emergency_intervention", "reminder")] == START + timedelta(hours=12)
        assert plan[("emergency_intervention", "committee")] == START + timedelta(hours=14)
        assert plan[("support_plan", "reminder")] == START + timedelta(days=7)
        assert plan[("support_plan", "chair")] == START + timedelta(days=8)


async def test_the_12_hour_emergency_clock_starts_when_the_reporter_learned_of_the_case(base_env, tmp_path: Path):
    # Learned of at 21:00 the evening before, filed at START: 5 of the 12 hours are already gone.
    settings = routing_settings(base_env)
    club = tmp_path / "club.csv"
    club.write_text(SMALL_CLUB, encoding="utf-8")
    await import_file(settings, club)
    learned = START - timedelta(hours=5)
    async with routing_app(settings, FakeClock(START)) as (app, _client):
        await publish(settings, case_reported("trafficking", "phuong-tan-ninh", "critical", "support", learned))
        await eventually(lambda: emitted(app, "case.assigned"))
        async with app.state.runtime.sessions() as session:
            timers = list(await session.execute(select(store.timers).where(store.timers.c.assignment_id.is_(None))))
            plan = {(t.deadline, stage): getattr(t, column) for t in timers for stage, column in _STAGE_TIMES}
            learned_at = (await session.execute(select(store.cases.c.learned_at))).scalar_one()
        assert learned_at == learned
        assert plan[("emergency_intervention", "reminder")] == learned + timedelta(hours=12)
        assert plan[("emergency_intervention", "reminder")] == START + timedelta(hours=7)
        # The 5-working-day support plan still counts from the report's receipt.
        assert plan[("support_plan", "reminder")] == START + timedelta(days=7)
