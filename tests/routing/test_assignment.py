"""On `case.reported` routing picks the experts the policy names, records them and tells notify, once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from devtools.waiting import eventually
from services.routing import store
from shared.clock import FakeClock
from tests.routing.support import (
    START,
    by_field,
    case_reported,
    emitted,
    publish,
    routing_app,
    routing_settings,
    seeded,
)
from tests.support.sealed import links


async def test_a_reported_case_gets_one_expert_per_field_preferring_those_covering_its_unit_once_despite_redelivery(
    base_env,
):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, _client):
        reported = case_reported("child_marriage", "phuong-go-dau", "high")
        again = case_reported("child_marriage", "phuong-go-dau", "high").model_copy(
            update={"payload": reported.payload}
        )  # the same case under another event id, as if intake had emitted it twice
        await publish(settings, reported, reported, again)

        assigned = (await eventually(lambda: emitted(app, "case.assigned")))[0]
        # Former Trảng Bàng and Gò Dầu representatives both cover the new Phường Gò Dầu.
        picks = {f: a["member"]["display_name"] for f, a in by_field(assigned).items()}
        assert picks == {"law": "Ngô Thị Phương", "education": "Ngô Thị Phương", "social_work": "Trương Thị Yến"}
        for info in assigned["assignments"]:
            assert info["member"]["email"].endswith("@club.example") and info["member"]["zalo_user_id"]
            assert info["respond_by"].startswith((START + timedelta(hours=4)).isoformat()[:19])
            assert "accept_url" not in info and "https://" not in info["links"]  # sealed for notify
            assert links(info)["accept"].startswith(
                f"https://caunoi.example/v1/links/assignments/{info['assignment_id']}/accept?"
            )
            assert "signature=" in links(info)["decline"]
        assert assigned["missing_fields"] == [] and assigned["chair"] == []

        async def both_deliveries_handled() -> bool:
            async with app.state.runtime.sessions() as session:
                query = select(func.count()).where(store.inbox.c.type == "case.reported")
                return (await session.execute(query)).scalar_one() == 2

        await eventually(both_deliveries_handled)
        status = await eventually(lambda: emitted(app, "case.status_changed"))
        assert [(s["from_status"], s["to_status"]) for s in status] == [("reported", "assigned")]
        assert len(await emitted(app, "case.assigned")) == 1
