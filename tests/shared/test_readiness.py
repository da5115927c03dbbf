"""`/readyz` says whether a replica should take traffic; `/healthz` tells what is degraded.

With the broker cut off, intake stays ready and keeps taking cases (each is committed with its events in
the outbox, which holds them), and its `/healthz` detail says the broker is unreachable and how many events
wait; a service whose work needs the broker (reporting) is not ready. When the broker is back, intake's
outbox drains and `/healthz` says so."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AsyncExitStack

import httpx
import pytest

from devtools.tcp_proxy import TcpProxy
from devtools.waiting import eventually
from services.intake import reference
from services.intake import store as intake_store
from services.intake.main import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.reporting.main import create_app as create_reporting
from services.reporting.settings import ReportingSettings
from shared.outbox import Outbox
from tests.support.asgi import running
from tests.support.credentials import grant

CASE = {"unit": "phuong-tan-ninh", "category": "neglect", "urgency": "high", "summary": "Trẻ bị bỏ mặc ở nhà."}


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    with TcpProxy("127.0.0.1", 5672) as running_proxy:
        yield running_proxy


async def test_intake_takes_cases_while_the_broker_is_away_and_reporting_is_not_ready(base_env, proxy):
    env = {key.lower(): value for key, value in base_env.items()}
    env.update(rabbitmq_url=proxy.url_for(base_env["RABBITMQ_URL"]), outbox_poll_interval=0.2)
    async with AsyncExitStack() as stack:
        intake_app = create_intake(IntakeSettings(**env))
        intake: httpx.AsyncClient = await stack.enter_async_context(running(intake_app))
        reporting: httpx.AsyncClient = await stack.enter_async_context(
            running(create_reporting(ReportingSettings(**env)))
        )
        sessions = intake_app.state.runtime.sessions
        async with sessions() as session, session.begin():
            await reference.seed(session, Outbox(intake_store.outbox, "intake"))
        reporter = await grant(sessions, intake_store.credentials, "reporter", unit="phuong-tan-ninh")
        for client in (intake, reporting):
            assert (await client.get("/readyz")).json() == {
                "status": "ready",
                "checks": {"database": True, "broker": True},
            }
        assert (await intake.get("/healthz")).json()["broker"] == "connected"

        proxy.cut(600)  # until the test lets it back in

        async def reporting_not_ready() -> bool:
            return (await reporting.get("/readyz")).status_code == 503

        await eventually(reporting_not_ready)
        ready = await intake.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ready",
            "checks": {"database": True, "broker": False},
            "degraded": ["broker"],
        }
        codes = []
        for _ in range(3):
            response = await intake.post("/v1/cases", json=CASE, headers=reporter)
            assert response.status_code == 201, response.text
            codes.append(response.json()["code"])

        async def held_in_the_outbox() -> dict | None:
            health = (await intake.get("/healthz")).json()
            return health if (health.get("outbox_pending") or 0) >= 3 else None

        health = await eventually(held_in_the_outbox)
        assert health["status"] == "ok" and health["broker"] == "unreachable"
        assert "outbox" in health["note"]

        proxy.cut(0)  # the broker is back: the relay reconnects and the outbox drains

        async def drained() -> bool:
            health = (await intake.get("/healthz")).json()
            return health["broker"] == "connected" and health["outbox_pending"] == 0 and "note" not in health

        await eventually(drained, timeout=60)
        await eventually(lambda: _ready(reporting), timeout=60)
        async with sessions() as session:
            published = await session.scalar(
                intake_store.outbox.select()
                .with_only_columns(intake_store.outbox.c.id)
                .where(intake_store.outbox.c.published_at.is_(None))
                .limit(1)
            )
        assert published is None and len(set(codes)) == 3


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200
