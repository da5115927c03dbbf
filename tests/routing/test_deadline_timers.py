"""Deadline timers fire once each, in order, with two routing replicas on the same database and broker,
and survive a restart: reminder to the member, then the chair, then the Standing Committee."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from devtools.waiting import eventually
from services.routing import store
from shared.clock import FakeClock
from tests.routing.deadline_sweeps import sweeps_pass
from tests.routing.support import (
    START,
    as_assignee,
    case_reported,
    emitted,
    publish,
    routing_app,
    routing_settings,
    seeded,
)


async def test_reminder_then_chair_then_committee_fire_once_each_with_two_replicas_after_a_restart(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    clock = FakeClock(START)
    late = case_reported("physical_health", "phuong-tan-ninh", "high", level="prevention")  # medicine only
    prompt = case_reported("education", "phuong-go-dau", "high", level="prevention")

    async with routing_app(settings, clock) as (first, client):
        await publish(settings, late, prompt)
        assigned = await eventually(lambda: emitted(first, "case.assigned"), timeout=20)
        if len(assigned) < 2:
            assigned = await eventually(lambda: _two(first))
        answered = next(a for a in assigned if a["case_id"] == str(prompt.payload["case_id"]))
        for info in answered["assignments"]:
            response = await client.post(
                f"/v1/assignments/{info['assignment_id']}/accept", headers=await as_assignee(first, info)
            )
            assert response.status_code == 200
    # The process that planned the timers is gone; two fresh replicas share the work.
    holder = next(a for a in assigned if a["case_id"] == str(late.payload["case_id"]))["assignments"][0]["member"]
    async with routing_app(settings, clock) as (one, _), routing_app(settings, clock) as (two, _):
        await sweeps_pass(one, two)
        assert await emitted(one, "deadline.reminder") == []

        clock.advance(timedelta(hours=4))  # the acceptance deadline of a high-urgency case
        (reminder,) = await eventually(lambda: emitted(one, "deadline.reminder"))
        await sweeps_pass(one, two)
        assert len(await emitted(one, "deadline.reminder")) == 1
        assert reminder["case_id"] == str(late.payload["case_id"]) and reminder["deadline"] == "acceptance"
        assert [r["display_name"] for r in reminder["recipients"]] == [holder["display_name"]]
        assert await emitted(one, "case.escalated") == []

        clock.advance(timedelta(hours=4))
        (to_chair,) = await eventually(lambda: emitted(two, "case.escalated"))
        assert to_chair["level"] == "chair"
        assert [r["display_name"] for r in to_chair["recipients"]] == ["Nguyễn Thị Thu Hà"]

        clock.advance(timedelta(hours=4))
        await eventually(lambda: _count(one, "case.escalated", 2))
        await sweeps_pass(one, two)
        escalations = await emitted(one, "case.escalated")
        assert [e["level"] for e in escalations] == ["chair", "committee"]
        assert {r["display_name"] for r in escalations[1]["recipients"]} == {
            "Châu Văn Thành",
            "Văn phòng Tỉnh đoàn Tây Ninh",
        }
        assert all(e["case_id"] == str(late.payload["case_id"]) for e in escalations)
        assert len(await emitted(one, "deadline.reminder")) == 1

        async with one.state.runtime.sessions() as session:
            timers = list(await session.execute(select(store.timers).order_by(store.timers.c.id)))
        assert all(t.fired_at is not None for t in timers)
        prompt_timers = [t for t in timers if str(t.case_id) == str(prompt.payload["case_id"])]
        assert {t.outcome for t in prompt_timers} == {"moot"}  # accepted in time: nobody is chased
        # ... and the ladders stopped at the reminder: no row was written for the later stages (migration 0012).
        assert {t.stage for t in prompt_timers} == {"reminder"}
        assert len(prompt_timers) == len(answered["assignments"])
        # The late one: one row per stage, each written when the one before fired, with the ladder's times.
        late_timers = [
            (t.stage, t.fire_at, t.outcome) for t in timers if str(t.case_id) == str(late.payload["case_id"])
        ]
        assert late_timers == [
            ("reminder", START + timedelta(hours=4), "emitted"),
            ("chair", START + timedelta(hours=8), "emitted"),
            ("committee", START + timedelta(hours=12), "emitted"),
        ]


async def _two(app) -> list[dict]:
    found = await emitted(app, "case.assigned")
    return found if len(found) == 2 else []


async def _count(app, event_type: str, n: int) -> bool:
    return len(await emitted(app, event_type)) == n


async def test_a_stage_moot_only_while_the_case_is_closed_does_not_stop_the_ladder(base_env):
    """Only an answered (or handed-over) acceptance stops a ladder (`timers._next_stage`): a reminder that was
    moot because the case was closed at that moment still leads to the chair's stage, which escalates if the
    case was reopened meanwhile and the assignment is still pending, as when every stage had its row up front."""
    settings = routing_settings(base_env)
    await seeded(settings)
    clock = FakeClock(START)
    late = case_reported("physical_health", "phuong-tan-ninh", "high", level="prevention")  # medicine only
    c = store.cases.c
    async with routing_app(settings, clock) as (app, _client):
        await publish(settings, late)
        await eventually(lambda: emitted(app, "case.assigned"), timeout=20)
        case_id = late.payload["case_id"]
        async with app.state.runtime.sessions() as session, session.begin():
            await session.execute(store.cases.update().where(c.case_id == case_id).values(status="closed"))

        clock.advance(timedelta(hours=4))  # the reminder falls while the case is closed: moot

        async def reminder_settled() -> bool:
            async with app.state.runtime.sessions() as session:
                stages = (await session.execute(select(store.timers.c.stage, store.timers.c.outcome))).all()
            return ("reminder", "moot") in stages and ("chair", None) in stages

        await eventually(reminder_settled)
        assert await emitted(app, "deadline.reminder") == []
        async with app.state.runtime.sessions() as session, session.begin():
            await session.execute(store.cases.update().where(c.case_id == case_id).values(status="assigned"))

        clock.advance(timedelta(hours=4))  # reopened, still not accepted: the chair hears of it
        (to_chair,) = await eventually(lambda: emitted(app, "case.escalated"))
        assert to_chair["level"] == "chair" and to_chair["case_id"] == str(case_id)
