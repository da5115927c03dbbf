"""`SERVICE_ROLE` (`shared.roles`): an `api` process serves HTTP only, a `workers` process runs the relay, the
consumer and the workers; the `api` process's case reaches the broker through the `workers` process's relay
(the outbox's NOTIFY), and its wake-ups reach the `workers` process's signals (`<service>_wake`)."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack

import aio_pika
import httpx

from devtools.waiting import eventually
from services.intake import reference
from services.intake import store as intake_store
from services.intake.main import create_app as create_intake
from services.intake.settings import IntakeSettings
from shared.outbox import Outbox
from shared.service import ServiceRuntime
from shared.topology import Topology
from tests.support.asgi import running
from tests.support.credentials import grant

CASE = {"unit": "phuong-tan-ninh", "category": "neglect", "urgency": "high", "summary": "Trẻ bị bỏ mặc ở nhà."}


def _task_names(runtime: ServiceRuntime) -> set[str]:
    return {task.get_name() for task in runtime.tasks}


async def test_an_api_process_case_reaches_the_broker_through_a_workers_process(base_env):
    env = {key.lower(): value for key, value in base_env.items()}
    # A long poll: the relay must be woken by the outbox's NOTIFY, not find the row by polling.
    env["outbox_poll_interval"] = 30
    async with AsyncExitStack() as stack:
        api_app = create_intake(IntakeSettings(**env, service_role="api"))
        api: httpx.AsyncClient = await stack.enter_async_context(running(api_app))
        api_runtime: ServiceRuntime = api_app.state.runtime
        sessions = api_runtime.sessions
        async with sessions() as session, session.begin():
            await reference.seed(session, Outbox(intake_store.outbox, "intake"))
        reporter = await grant(sessions, intake_store.credentials, "reporter", unit="phuong-tan-ninh")

        # The api process: HTTP, no relay, no consumer, no background workers but the cache listener.
        assert api_runtime.relay is None and api_runtime.consumer is None and api_runtime.broker is None
        assert _task_names(api_runtime) == {"intake-change_listener", "intake-database-gauges"}
        assert (await api.get("/readyz")).json() == {"status": "ready", "checks": {"database": True}}
        assert (await api.get("/healthz")).json()["broker"] == "not used by the api role"
        created = await api.post("/v1/cases", json=CASE, headers=reporter)
        assert created.status_code == 201, created.text
        code = created.json()["code"]

        # The workers process: the relay, the consumer, the workers and the wake-up listener; HTTP only ops.
        workers_app = create_intake(IntakeSettings(**env, service_role="workers"))
        workers: httpx.AsyncClient = await stack.enter_async_context(running(workers_app))
        workers_runtime: ServiceRuntime = workers_app.state.runtime
        assert workers_runtime.relay is not None and workers_runtime.consumer is not None
        assert {"intake-zalo_worker", "intake-retention_worker", "intake-wake-ups"} <= _task_names(workers_runtime)
        assert (await workers.post("/v1/cases", json=CASE, headers=reporter)).status_code == 404
        assert (await workers.get("/readyz")).json()["checks"] == {"database": True, "broker": True}

        topology = Topology(base_env["BROKER_NAMESPACE"])
        connection = await aio_pika.connect(base_env["RABBITMQ_URL"])
        stack.push_async_callback(connection.close)
        channel = await connection.channel()
        queue = await channel.declare_queue(topology.queue("routing"), passive=True)  # bound to case.reported

        async def reported(expected: str) -> bool:
            message = await queue.get(no_ack=True, fail=False)
            return message is not None and json.loads(message.body)["payload"]["code"] == expected

        await eventually(lambda: reported(code))  # the one made before the workers process started
        second = (await api.post("/v1/cases", json=CASE, headers=reporter)).json()["code"]
        await eventually(lambda: reported(second), timeout=5)  # woken by NOTIFY well before the 30 s poll

        # A wake-up in the api process (`UnitOfWork.wake`, the Zalo webhook) sets the workers' signal.
        woken = workers_runtime.signals["zalo-inbox-test"]
        api_runtime.signals.set("zalo-inbox-test")
        assert await asyncio.wait_for(woken.wait(5), 6)
