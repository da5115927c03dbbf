"""Answers racing the chair's changes and a leave's hand-over: every call gets a real answer (200, 201 or
409), never a 500, and each assignment ends in exactly one state."""

from __future__ import annotations

import asyncio

from devtools.waiting import eventually
from shared.clock import FakeClock
from tests.routing.support import (
    START,
    as_assignee,
    as_role,
    case_reported,
    emitted,
    publish,
    routing_app,
    routing_settings,
    seeded,
)

CASES = 6


async def test_accepts_racing_removals_and_a_leave_hand_over_never_answer_500(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        await publish(settings, *[case_reported("neglect", "phuong-go-dau", "medium") for _ in range(CASES)])

        async def all_assigned() -> list[dict] | None:
            assigned = await emitted(app, "case.assigned")
            return assigned if len(assigned) == CASES else None

        assigned = await eventually(all_assigned)
        chair = await as_role(app, "chair")
        calls = []
        targets = []
        for case in assigned:
            first = case["assignments"][0]
            holder = first["member"]["member_id"]
            targets.append(first["assignment_id"])
            calls.append(
                client.post(f"/v1/assignments/{first['assignment_id']}/accept", headers=await as_assignee(app, first))
            )
            calls.append(client.post(f"/v1/cases/{case['case_id']}/members", json={"remove": [holder]}, headers=chair))
            for other in case["assignments"][1:]:
                calls.append(
                    client.post(
                        f"/v1/assignments/{other['assignment_id']}/decline", headers=await as_assignee(app, other)
                    )
                )
        # And the holder of the second field of the first case goes on leave from today, mid-flight.
        on_leave = assigned[0]["assignments"][-1]["member"]["member_id"]
        leave = {"starts_on": "2026-12-01", "ends_on": "2026-12-05"}
        calls.append(client.post(f"/v1/members/{on_leave}/leaves", json=leave, headers=chair))

        responses = await asyncio.gather(*calls)

        statuses = [r.status_code for r in responses]
        assert 500 not in statuses and 503 not in statuses
        assert set(statuses) <= {200, 201, 409}, statuses
        for case in assigned:
            view = (await client.get(f"/v1/cases/{case['case_id']}", headers=chair)).json()
            states = {a["assignment_id"]: a["status"] for a in view["assignments"]}
            for target in targets:
                if target in states:
                    assert states[target] in ("accepted", "removed")
