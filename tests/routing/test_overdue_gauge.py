"""`caunoi_deadlines_overdue`: deadlines passed right now with nobody acting, by clock, on `/metrics`.

A critical case at the intervention level runs three clocks (acceptance 1 h, Decree 56's 12 hours and its 5
working days); a second case is accepted in time. Each clock counts as overdue once its due time has
passed while it is still unmet, and stops counting once met."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from devtools.waiting import eventually
from services.routing import gauges
from services.routing.gauges import overdue_now
from shared.clock import FakeClock
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


async def test_each_clock_is_overdue_only_while_passed_and_unmet(base_env, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(gauges, "INTERVAL_SECONDS", 0.05)
    settings = routing_settings(base_env)
    await seeded(settings)
    clock = FakeClock(START)
    critical = case_reported("sexual_abuse", "phuong-tan-ninh", "critical", level="intervention")
    prompt = case_reported("education", "phuong-go-dau", "high", level="prevention")

    async with routing_app(settings, clock) as (app, client):
        await publish(settings, critical, prompt)

        async def both_assigned() -> list[dict] | None:
            found = await emitted(app, "case.assigned")
            return found if len(found) == 2 else None

        assigned = await eventually(both_assigned, timeout=20)
        by_case = {a["case_id"]: a for a in assigned}
        for info in by_case[str(prompt.payload["case_id"])]["assignments"]:
            response = await client.post(
                f"/v1/assignments/{info['assignment_id']}/accept", headers=await as_assignee(app, info)
            )
            assert response.status_code == 200
        waiting = len(by_case[str(critical.payload["case_id"])]["assignments"])

        async def overdue() -> dict[str, int]:
            async with app.state.runtime.sessions() as session:
                return await overdue_now(session, clock.now())

        assert await overdue() == {}
        clock.advance(timedelta(hours=5))  # past the critical case's 1 h and the prompt case's 4 h acceptance
        assert await overdue() == {"acceptance": waiting}
        clock.advance(timedelta(hours=8))  # 13 h: Decree 56's 12 hours passed too
        assert await overdue() == {"acceptance": waiting, "emergency_intervention": 1}

        def sample(deadline: str) -> float | None:
            return REGISTRY.get_sample_value("caunoi_deadlines_overdue", {"deadline": deadline})

        async def refreshed() -> bool:
            return sample("emergency_intervention") == 1 and sample("acceptance") == waiting

        await eventually(refreshed)
        assert sample("support_plan") == 0 and sample("answer") == 0
        metrics = (await client.get("/metrics")).text
        assert 'caunoi_deadlines_overdue{deadline="emergency_intervention"} 1.0' in metrics

        clock.advance(timedelta(days=7))  # the 5 working days (Tuesday → the next Tuesday) as well
        assert (await overdue())["support_plan"] == 1

        for info in by_case[str(critical.payload["case_id"])]["assignments"]:
            response = await client.post(
                f"/v1/assignments/{info['assignment_id']}/accept", headers=await as_assignee(app, info)
            )
            assert response.status_code == 200
        after = await overdue()
        assert "acceptance" not in after  # accepted, late but met
        assert after["emergency_intervention"] == 1 and after["support_plan"] == 1  # still nobody intervened
