"""The consumer resumes after the broker closes its connection: events published during and after the
cut are all applied, and each exactly once."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest
from faststream.rabbit import RabbitBroker
from sqlalchemy import func, select

from devtools.waiting import eventually
from shared.consumer import EventConsumer, HandlerContext
from shared.db import make_engine, make_session_factory
from shared.events import Envelope
from shared.events.intake import CaseReported
from shared.topology import Topology
from tests.shared.test_relay_outage import close_broker_connections
from tests.shared.toy import ToySchema, case_reported


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    return empty_database_url


@pytest.mark.fault
@pytest.mark.parametrize("batch_size", [1, 50])
async def test_consumer_applies_every_event_once_across_connection_losses(
    database_url, amqp_vhost_url, broker_namespace, batch_size
):
    engine = make_engine(database_url)
    schema = ToySchema()
    await schema.create(engine)
    topology = Topology(broker_namespace)

    async def on_case_reported(event: CaseReported, ctx: HandlerContext) -> None:
        await ctx.session.execute(schema.effects.insert().values(code=event.code))
        await asyncio.sleep(0.002)

    consumer = EventConsumer(
        service="routing",
        session_factory=make_session_factory(engine),
        inbox=schema.inbox,
        handlers={CaseReported: on_case_reported},
        batch_size=batch_size,
    )
    broker = RabbitBroker(amqp_vhost_url, logger=None, reconnect_interval=0.5)
    connection = await aio_pika.connect_robust(amqp_vhost_url, reconnect_interval=0.5)
    channel = await connection.channel(publisher_confirms=True)
    await topology.declare(channel)
    consumer.subscribe(broker, topology, prefetch=20)
    await broker.start()

    async def publish(start: int, count: int) -> None:
        exchange = await channel.get_exchange(topology.events_exchange)
        for i in range(start, start + count):
            envelope = Envelope.wrap(case_reported(f"TN-2026-{i:06d}"), producer="intake")
            await exchange.publish(
                aio_pika.Message(
                    envelope.model_dump_json().encode(),
                    type=envelope.type,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=envelope.type,
            )

    await publish(0, 300)
    await asyncio.to_thread(close_broker_connections, amqp_vhost_url)
    await publish(300, 300)

    async def applied() -> int:
        async with engine.connect() as conn:
            return await conn.scalar(select(func.count(func.distinct(schema.effects.c.code)))) >= 600

    await eventually(applied, timeout=60)
    await asyncio.sleep(0.5)
    await consumer.close()
    await broker.stop()
    async with engine.connect() as conn:
        total = await conn.scalar(select(func.count()).select_from(schema.effects))
    await engine.dispose()
    assert total == 600  # each event applied once, though some were delivered twice
