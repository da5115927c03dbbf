"""A leave recorded for a later date hands the member's open assignments over when it begins: once,
with two replicas sweeping the timers, on the injected clock."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from devtools.waiting import eventually
from services.routing import store
from shared.clock import FakeClock
from tests.routing.deadline_sweeps import sweeps_pass
from tests.routing.support import (
    START,
    as_role,
    case_reported,
    emitted,
    publish,
    routing_app,
    routing_settings,
    seeded,
)


async def test_a_leave_recorded_ahead_hands_the_cases_over_on_its_first_day_once_with_two_replicas(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    clock = FakeClock(START)  # Tuesday 1 December 2026, 09:00 in Vietnam
    async with routing_app(settings, clock) as (one, client), routing_app(settings, clock) as (two, _):
        reported = case_reported("neglect", "phuong-go-dau", "low", level="prevention")
        await publish(settings, reported)
        (assigned,) = await eventually(lambda: emitted(one, "case.assigned"))
        leaving = assigned["assignments"][0]
        leave = {"starts_on": "2026-12-03", "ends_on": "2026-12-10"}
        chair = await as_role(one, "chair")
        response = await client.post(f"/v1/members/{leaving['member']['member_id']}/leaves", json=leave, headers=chair)
        assert response.status_code == 201

        await sweeps_pass(one, two)
        assert await emitted(one, "case.members_changed") == []  # not yet: the leave is two days ahead

        clock.set(datetime(2026, 12, 2, 16, 59, tzinfo=UTC))  # 23:59 on 2 December in Vietnam
        await sweeps_pass(one, two)
        assert await emitted(one, "case.members_changed") == []

        clock.set(datetime(2026, 12, 2, 17, 0, tzinfo=UTC))  # 00:00 on 3 December in Vietnam: the leave begins
        (handed,) = await eventually(lambda: emitted(two, "case.members_changed"))
        assert handed["reason"] == "leave"
        held = sorted(a["field"] for a in assigned["assignments"] if a["member"] == leaving["member"])
        assert {r["member_id"] for r in handed["removed"]} == {leaving["member"]["member_id"]}
        assert sorted(a["field"] for a in handed["added"]) == held
        assert all(a["member"]["member_id"] != leaving["member"]["member_id"] for a in handed["added"])

        await sweeps_pass(one, two)
        assert len(await emitted(one, "case.members_changed")) == 1
        async with one.state.runtime.sessions() as session:
            status = (
                await session.execute(
                    select(store.assignments.c.status).where(
                        store.assignments.c.assignment_id == leaving["assignment_id"]
                    )
                )
            ).scalar_one()
        assert status == "removed"
