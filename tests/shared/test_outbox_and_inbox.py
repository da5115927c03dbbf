"""The outbox relay and the idempotent consumer against the real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict

import aio_pika
import pytest
from faststream.rabbit import RabbitBroker
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from devtools.waiting import eventually
from shared.consumer import EventConsumer, HandlerContext
from shared.db import make_engine, make_session_factory
from shared.events import Envelope
from shared.events.intake import CaseReported
from shared.outbox import Outbox
from shared.publisher import EventPublisher
from shared.relay import OutboxRelay
from shared.topology import Topology
from tests.shared.toy import ToySchema, case_reported


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    return empty_database_url


@pytest.fixture
async def toy(database_url: str):
    engine = make_engine(database_url)
    schema = ToySchema()
    await schema.create(engine)
    yield engine, schema
    await engine.dispose()


@pytest.fixture
async def channel(amqp_vhost_url: str):
    connection = await aio_pika.connect_robust(amqp_vhost_url)
    yield await connection.channel()
    await connection.close()


def make_relay(engine, schema: ToySchema, database_url: str, publisher: EventPublisher) -> OutboxRelay:
    return OutboxRelay(
        service="intake",
        engine=engine,
        database_url=database_url,
        table=schema.outbox,
        publisher=publisher,
        batch_size=50,
        poll_interval=0.2,
    )


async def drain_queue(channel, name: str) -> list[aio_pika.IncomingMessage]:
    queue = await channel.get_queue(name)
    messages = []
    while (message := await queue.get(fail=False, no_ack=True)) is not None:
        messages.append(message)
    return messages


async def test_committed_events_are_published_and_rolled_back_ones_are_not(
    toy, channel, database_url, amqp_vhost_url, broker_namespace
):
    engine, schema = toy
    topology = Topology(broker_namespace)
    publisher = EventPublisher(amqp_vhost_url, topology)
    await publisher.connect()
    outbox = Outbox(schema.outbox, "intake")
    sessions = make_session_factory(engine)
    async with sessions() as session, session.begin():
        kept = await outbox.add(session, case_reported("TN-2026-000001"))
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await outbox.add(session, case_reported("TN-2026-000002"))
            raise RuntimeError("the request failed after writing")
    relay = make_relay(engine, schema, database_url, publisher)
    assert await relay.drain() == 1
    messages = await drain_queue(channel, topology.queue("routing"))
    assert [m.message_id for m in messages] == [str(kept.event_id)]
    message = messages[0]
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.type == "case.reported"
    body = json.loads(message.body)
    assert set(body) == {
        "event_id",
        "type",
        "version",
        "occurred_at",
        "producer",
        "correlation_id",
        "causation_id",
        "payload",
    }
    assert body["payload"]["code"] == "TN-2026-000001"
    # reporting listens to case.reported too: its queue got the same event
    assert len(await drain_queue(channel, topology.queue("reporting"))) == 1
    await publisher.close()


async def test_relay_wakes_on_notify_and_keeps_each_key_in_order_with_two_replicas(
    toy, channel, database_url, amqp_vhost_url, broker_namespace
):
    engine, schema = toy
    topology = Topology(broker_namespace)
    publishers = [EventPublisher(amqp_vhost_url, topology) for _ in range(2)]
    relays = [make_relay(engine, schema, database_url, p) for p in publishers]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    outbox = Outbox(schema.outbox, "intake")
    sessions = make_session_factory(engine)
    cases = [uuid.uuid4() for _ in range(10)]
    expected: dict[str, list[str]] = defaultdict(list)
    for i in range(300):
        case_id = cases[i % len(cases)]
        async with sessions() as session, session.begin():
            await outbox.add(session, case_reported(f"TN-2026-{i:06d}", case_id), key=case_id)
        expected[str(case_id)].append(f"TN-2026-{i:06d}")

    queue = await channel.get_queue(topology.queue("routing"))
    seen: dict[str, list[str]] = defaultdict(list)

    async def all_arrived() -> bool:
        while (message := await queue.get(fail=False, no_ack=True)) is not None:
            payload = json.loads(message.body)["payload"]
            seen[payload["case_id"]].append(payload["code"])
        return sum(map(len, seen.values())) >= 300

    await eventually(all_arrived, timeout=30)
    for relay in relays:
        relay.stop()
    await asyncio.gather(*tasks)
    assert dict(seen) == dict(expected)  # nothing lost, nothing doubled, each case in order
    async with engine.connect() as conn:
        pending = await conn.scalar(select(func.count()).where(schema.outbox.c.published_at.is_(None)))
    assert pending == 0
    for p in publishers:
        await p.close()


async def test_a_key_waits_for_its_middle_row_held_by_another_replica(
    toy, channel, database_url, amqp_vhost_url, broker_namespace
):
    """Rows 1, 2, 3 of one case; another replica holds row 2 (a row lock, as its claim takes). The relay
    claims 1 and 3 and must publish 1 only: its key's first pending row being its own is not enough."""
    engine, schema = toy
    topology = Topology(broker_namespace)
    publisher = EventPublisher(amqp_vhost_url, topology)
    await publisher.connect()
    outbox = Outbox(schema.outbox, "intake")
    sessions = make_session_factory(engine)
    case_id = uuid.uuid4()
    codes = [f"TN-2026-{i:06d}" for i in range(1, 4)]
    async with sessions() as session, session.begin():
        for code in codes:
            await outbox.add(session, case_reported(code, case_id), key=case_id)
    relay = make_relay(engine, schema, database_url, publisher)
    t = schema.outbox
    async with engine.connect() as other_replica, other_replica.begin():
        second = select(t.c.id).order_by(t.c.id).offset(1).limit(1).scalar_subquery()
        await other_replica.execute(select(t.c.id).where(t.c.id == second).with_for_update())
        assert await relay.drain() == 1
    assert await relay.drain() == 2
    messages = await drain_queue(channel, topology.queue("routing"))
    assert [json.loads(m.body)["payload"]["code"] for m in messages] == codes
    await publisher.close()


@pytest.mark.parametrize("batch_size", [1, 20])
async def test_consumer_applies_an_event_once_however_often_it_is_delivered(
    toy, channel, database_url, amqp_vhost_url, broker_namespace, batch_size
):
    engine, schema = toy
    topology = Topology(broker_namespace)
    await topology.declare(channel)
    applied: list[str] = []

    async def on_case_reported(event: CaseReported, ctx: HandlerContext) -> None:
        await ctx.session.execute(schema.effects.insert().values(code=event.code))
        applied.append(event.code)

    consumer = EventConsumer(
        service="routing",
        session_factory=make_session_factory(engine),
        inbox=schema.inbox,
        handlers={CaseReported: on_case_reported},
        batch_size=batch_size,
    )
    broker = RabbitBroker(amqp_vhost_url, logger=None)
    consumer.subscribe(broker, topology, prefetch=20)
    await broker.start()
    envelope = Envelope.wrap(case_reported("TN-2026-000042"), producer="intake")
    exchange = await channel.get_exchange(topology.events_exchange)
    for _ in range(3):
        await exchange.publish(
            aio_pika.Message(envelope.model_dump_json().encode(), type=envelope.type), routing_key=envelope.type
        )

    async def queue_empty_and_applied() -> bool:
        queue = await channel.declare_queue(topology.queue("routing"), passive=True)
        return bool(applied) and queue.declaration_result.message_count == 0

    await eventually(queue_empty_and_applied)
    await asyncio.sleep(0.3)
    await consumer.close()
    await broker.stop()
    async with engine.connect() as conn:
        effects = (await conn.execute(select(schema.effects.c.code))).scalars().all()
        inbox = await conn.scalar(select(func.count()).select_from(schema.inbox))
    assert effects == ["TN-2026-000042"]
    assert inbox == 1
    assert applied == ["TN-2026-000042"]


@pytest.mark.parametrize("batch_size", [1, 20])
async def test_poison_and_always_failing_events_end_in_the_dead_letter_queue(
    toy, channel, database_url, amqp_vhost_url, broker_namespace, batch_size
):
    engine, schema = toy
    topology = Topology(broker_namespace, delivery_limit=2)
    await topology.declare(channel)
    attempts: list[str] = []

    async def always_fails(event: CaseReported, ctx: HandlerContext) -> None:
        attempts.append(event.code)
        raise ValueError("a bug in the handler")

    dead_lettered = "caunoi_events_dead_lettered_total"
    poison = {"service": "routing", "type": "case.reported", "reason": "poison"}
    limit = {"service": "routing", "type": "case.reported", "reason": "delivery_limit"}
    before = {k: REGISTRY.get_sample_value(dead_lettered, labels) or 0 for k, labels in (("p", poison), ("l", limit))}
    consumer = EventConsumer(
        service="routing",
        session_factory=make_session_factory(engine),
        inbox=schema.inbox,
        handlers={CaseReported: always_fails},
        max_backoff=0.05,
        batch_size=batch_size,
    )
    broker = RabbitBroker(amqp_vhost_url, logger=None)
    consumer.subscribe(broker, topology, prefetch=10)
    await broker.start()
    exchange = await channel.get_exchange(topology.events_exchange)
    await exchange.publish(aio_pika.Message(b"not json", type="case.reported"), routing_key="case.reported")
    bad = Envelope.wrap(case_reported("TN-2026-000007"), producer="intake")
    await exchange.publish(aio_pika.Message(bad.model_dump_json().encode(), type=bad.type), routing_key=bad.type)
    dead: list[aio_pika.IncomingMessage] = []

    async def both_dead() -> bool:
        dead.extend(await drain_queue(channel, topology.dead_letter_queue("routing")))
        return len(dead) >= 2

    await eventually(both_dead, timeout=20)
    await consumer.close()
    await broker.stop()
    assert {m.body[:8] for m in dead} == {b"not json", b'{"event_'}
    assert attempts == ["TN-2026-000007"] * 3  # first delivery + 2 redeliveries, then dead-lettered
    assert REGISTRY.get_sample_value(dead_lettered, poison) == before["p"] + 1
    assert REGISTRY.get_sample_value(dead_lettered, limit) == before["l"] + 1  # once, on the last delivery
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(schema.inbox)) == 0


async def test_a_batch_commits_together_and_a_failing_event_does_not_hold_back_the_others(
    toy, channel, database_url, amqp_vhost_url, broker_namespace, monkeypatch
):
    """100 events queued before the consumer starts, so they come in batches; one of them always fails. The
    other 99 are applied once each, the failing one is dead-lettered after its deliveries, and the hook ran
    once per transaction — far fewer transactions than events. A batch is acknowledged with one `multiple`
    ack, which settles neither the failing event (it still reaches the dead-letter queue) nor any other
    event early, and nothing is left in the queue."""
    engine, schema = toy
    acks: list[bool] = []
    plain_ack = aio_pika.IncomingMessage.ack

    async def counted_ack(self, multiple: bool = False) -> None:
        acks.append(multiple)
        await plain_ack(self, multiple=multiple)

    monkeypatch.setattr(aio_pika.IncomingMessage, "ack", counted_ack)
    topology = Topology(broker_namespace, delivery_limit=2)
    await topology.declare(channel)
    exchange = await channel.get_exchange(topology.events_exchange)
    codes = [f"TN-2026-{i:06d}" for i in range(100)]
    for code in codes:
        envelope = Envelope.wrap(case_reported(code), producer="intake")
        await exchange.publish(
            aio_pika.Message(envelope.model_dump_json().encode(), type=envelope.type), routing_key=envelope.type
        )
    failing = codes[37]
    attempts: list[str] = []
    commits: list[int] = []

    async def on_case_reported(event: CaseReported, ctx: HandlerContext) -> None:
        if event.code == failing:
            attempts.append(event.code)
            raise ValueError("a bug in the handler")
        await ctx.session.execute(schema.effects.insert().values(code=event.code))
        ctx.session.info["handled"] = ctx.session.info.get("handled", 0) + 1

    async def before_commit(session) -> None:
        commits.append(session.info.pop("handled", 0))

    consumer = EventConsumer(
        service="routing",
        session_factory=make_session_factory(engine),
        inbox=schema.inbox,
        handlers={CaseReported: on_case_reported},
        max_backoff=0.05,
        batch_size=25,
        before_commit=before_commit,
    )
    broker = RabbitBroker(amqp_vhost_url, logger=None)
    consumer.subscribe(broker, topology, prefetch=50)
    await broker.start()

    dead: list[aio_pika.IncomingMessage] = []

    async def settled() -> bool:
        dead.extend(await drain_queue(channel, topology.dead_letter_queue("routing")))
        return len(dead) == 1 and sum(commits) == 99

    await eventually(settled, timeout=30)
    await consumer.close()
    await broker.stop()
    async with engine.connect() as conn:
        applied = (await conn.execute(select(schema.effects.c.code))).scalars().all()
        inbox = await conn.scalar(select(func.count()).select_from(schema.inbox))
    assert sorted(applied) == [c for c in codes if c != failing]
    assert inbox == 99
    assert attempts.count(failing) >= 3  # in its batch, then alone: first delivery + 2 redeliveries
    assert sum(commits) == 99
    assert len(commits) < 40, commits  # committed in batches, not one transaction per event
    assert any(acks) and len(acks) < 60, acks  # acknowledged per batch, not one frame per event
    left = await channel.declare_queue(topology.queue("routing"), passive=True)
    assert left.declaration_result.message_count == 0


@pytest.mark.parametrize("batch_size", [1, 20])
async def test_a_transient_database_failure_is_retried_in_place_not_against_the_delivery_limit(
    toy, channel, database_url, amqp_vhost_url, broker_namespace, batch_size
):
    """A deadlock (transient) three times in a row for one event, with a delivery limit of 1: the event is
    retried in place until it goes through, nothing is dead-lettered, every event is applied once."""
    import asyncpg
    from sqlalchemy import exc as sa_exc

    engine, schema = toy
    topology = Topology(broker_namespace, delivery_limit=1)
    await topology.declare(channel)
    exchange = await channel.get_exchange(topology.events_exchange)
    codes = [f"TN-2026-{i:06d}" for i in range(30)]
    for code in codes:
        envelope = Envelope.wrap(case_reported(code), producer="intake")
        await exchange.publish(
            aio_pika.Message(envelope.model_dump_json().encode(), type=envelope.type), routing_key=envelope.type
        )
    unlucky, failures = codes[11], []

    async def on_case_reported(event: CaseReported, ctx: HandlerContext) -> None:
        if event.code == unlucky and len(failures) < 3:
            failures.append(event.code)
            raise sa_exc.DBAPIError("UPDATE", {}, asyncpg.exceptions.DeadlockDetectedError("deadlock detected"))
        await ctx.session.execute(schema.effects.insert().values(code=event.code))

    consumer = EventConsumer(
        service="routing",
        session_factory=make_session_factory(engine),
        inbox=schema.inbox,
        handlers={CaseReported: on_case_reported},
        max_backoff=0.05,
        batch_size=batch_size,
    )
    broker = RabbitBroker(amqp_vhost_url, logger=None)
    consumer.subscribe(broker, topology, prefetch=30)
    await broker.start()

    async def all_applied() -> bool:
        async with engine.connect() as conn:
            return await conn.scalar(select(func.count()).select_from(schema.effects)) == len(codes)

    await eventually(all_applied, timeout=30)
    await asyncio.sleep(0.3)
    await consumer.close()
    await broker.stop()
    async with engine.connect() as conn:
        applied = (await conn.execute(select(schema.effects.c.code))).scalars().all()
    dead = await channel.declare_queue(topology.dead_letter_queue("routing"), passive=True)
    assert sorted(applied) == codes
    assert failures == [unlucky] * 3
    assert dead.declaration_result.message_count == 0
