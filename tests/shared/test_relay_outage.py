"""The relay survives the broker closing its connections mid-stream: nothing is lost, and each key's
events still arrive in order (a confirmed-but-unmarked event may arrive twice; consumers deduplicate)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections import defaultdict

import aio_pika
import pytest

from devtools.waiting import eventually
from shared.db import make_engine, make_session_factory
from shared.outbox import Outbox
from shared.publisher import EventPublisher
from shared.relay import OutboxRelay
from shared.topology import Topology
from tests.shared.toy import ToySchema, case_reported


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    return empty_database_url


def close_broker_connections(amqp_url: str) -> None:
    vhost = amqp_url.rsplit("/", 1)[1]
    subprocess.run(
        ["rabbitmqctl", "-q", "close_all_connections", "-p", vhost, "test: broker cut"],
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.fault
async def test_relay_delivers_everything_in_order_across_broker_connection_losses(
    database_url, amqp_vhost_url, broker_namespace
):
    engine = make_engine(database_url)
    schema = ToySchema()
    await schema.create(engine)
    topology = Topology(broker_namespace)
    publisher = EventPublisher(amqp_vhost_url, topology)
    relay = OutboxRelay(
        service="intake",
        engine=engine,
        database_url=database_url,
        table=schema.outbox,
        publisher=publisher,
        batch_size=50,
        poll_interval=0.2,
        max_backoff=0.5,
    )
    relay_task = asyncio.create_task(relay.run())
    outbox = Outbox(schema.outbox, "intake")
    sessions = make_session_factory(engine)
    cases = [uuid.uuid4() for _ in range(20)]
    expected: dict[str, list[str]] = defaultdict(list)

    async def write(start: int, count: int) -> None:
        for i in range(start, start + count):
            async with sessions() as session, session.begin():
                await outbox.add(session, case_reported(f"TN-2026-{i:06d}", cases[i % 20]), key=cases[i % 20])
            expected[str(cases[i % 20])].append(f"TN-2026-{i:06d}")

    await write(0, 300)
    await asyncio.to_thread(close_broker_connections, amqp_vhost_url)
    await write(300, 300)
    await asyncio.to_thread(close_broker_connections, amqp_vhost_url)
    await write(600, 200)

    connection = await aio_pika.connect_robust(amqp_vhost_url)
    channel = await connection.channel()
    queue = await channel.get_queue(topology.queue("routing"))
    seen: dict[str, list[str]] = defaultdict(list)

    async def all_arrived() -> bool:
        while (message := await queue.get(fail=False, no_ack=True)) is not None:
            payload = json.loads(message.body)["payload"]
            seen[payload["case_id"]].append(payload["code"])
        return sum(len(set(v)) for v in seen.values()) >= 800

    await eventually(all_arrived, timeout=60)
    relay.stop()
    await relay_task
    await connection.close()
    await publisher.close()
    await engine.dispose()
    for case_id, codes in expected.items():
        first_seen = list(dict.fromkeys(seen[case_id]))  # order of first arrival
        assert first_seen == codes, f"case {case_id} lost or reordered events"
