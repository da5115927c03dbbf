"""The broker as a trust boundary: each service's own RabbitMQ user (generated from the catalogue and
applied by `python -m scripts.broker_users apply`) may publish exactly the events it produces and read
only its own queue; RabbitMQ refuses the rest. Consumers dead-letter an envelope whose producer is not the
catalogue's, or whose routing key is not its type."""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aio_pika
import pytest
from aio_pika.exceptions import ChannelClosed
from faststream.rabbit import RabbitBroker
from sqlalchemy import func, select

from devtools import infra
from devtools.waiting import eventually
from scripts import broker_users
from shared.broker_permissions import broker_user, produced_by
from shared.consumer import EventConsumer, HandlerContext
from shared.db import make_engine, make_session_factory
from shared.events import Envelope, all_events
from shared.events.base import SERVICES
from shared.events.intake import CaseReported, CredentialIssued
from shared.metrics import EVENTS_CONSUMED
from shared.publisher import EventPublisher
from shared.topology import Topology
from tests.shared.toy import ToySchema, case_reported


@pytest.fixture(scope="module")
def users_namespace(amqp_vhost_url: str) -> Iterator[str]:
    namespace = infra.unique("bu")
    yield namespace
    infra.delete_namespace(amqp_vhost_url, namespace)


@pytest.fixture(scope="module")
def applied(amqp_vhost_url: str, users_namespace: str) -> Iterator[dict[str, str]]:
    """Run the apply command against the test vhost (once: each rabbitmqctl call takes seconds); the AMQP URL
    of each service's user."""
    vhost = urlsplit(amqp_vhost_url).path.lstrip("/")
    passwords = {service: secrets.token_urlsafe(16) for service in SERVICES}
    # token_urlsafe starts with "-" one time in 64, which rabbitmqctl took for an option: one password always does.
    passwords[SERVICES[0]] = "-" + passwords[SERVICES[0]]
    environment = {f"RABBITMQ_{service.upper()}_PASSWORD": password for service, password in passwords.items()}
    environment["BROKER_ADMIN_URL"] = amqp_vhost_url
    topology = Topology(users_namespace)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        try:
            broker_users.main(["apply", "--namespace", users_namespace, "--vhost", vhost, "--via", "rabbitmqctl"])
            # Idempotent (every deploy runs it): the second run updates the existing users.
            broker_users.main(["apply", "--namespace", users_namespace, "--vhost", vhost])
            yield {
                service: f"amqp://{broker_user(topology, service).name}:{passwords[service]}@127.0.0.1:5672/{vhost}"
                for service in SERVICES
            }
        finally:
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda s: infra.rabbitmqctl("delete_user", broker_user(topology, s).name), SERVICES))


async def _publish(url: str, exchange_name: str, routing_key: str) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(exchange_name, ensure=False)
        body = b'{"probe": true}'
        await exchange.publish(aio_pika.Message(body, type=routing_key), routing_key=routing_key, mandatory=False)


def _not_produced_by(service: str) -> str:
    return next(cls.TYPE for cls in sorted(all_events(), key=lambda c: c.TYPE) if service != cls.PRODUCER)


async def test_each_service_may_publish_what_it_produces_and_rabbitmq_refuses_any_other_event(
    applied: dict[str, str], users_namespace: str
) -> None:
    topology = Topology(users_namespace)
    for service in SERVICES:
        produced = produced_by(service)
        assert produced, f"{service} produces events"
        await _publish(applied[service], topology.events_exchange, produced[0])  # accepted (confirmed)
        forbidden = _not_produced_by(service)
        with pytest.raises(ChannelClosed, match="ACCESS_REFUSED"):
            await _publish(applied[service], topology.events_exchange, forbidden)
    # The attack of the issue: routing publishing an admin credential.
    with pytest.raises(ChannelClosed, match="ACCESS_REFUSED"):
        await _publish(applied["routing"], topology.events_exchange, CredentialIssued.TYPE)


async def test_a_service_user_cannot_reach_a_queue_by_another_way(applied: dict[str, str], users_namespace: str):
    topology = Topology(users_namespace)
    url = applied["routing"]
    # Straight into notify's queue through the default exchange.
    with pytest.raises(ChannelClosed, match="ACCESS_REFUSED"):
        await _publish(url, "", topology.queue("notify"))
    connection = await aio_pika.connect(url)
    async with connection:
        with pytest.raises(ChannelClosed, match="ACCESS_REFUSED"):  # consume another service's queue
            channel = await connection.channel()
            queue = await channel.get_queue(topology.queue("notify"), ensure=False)
            await queue.consume(lambda message: None)
        with pytest.raises(ChannelClosed, match="ACCESS_REFUSED"):  # declare a queue (to bind it and read events)
            channel = await connection.channel()
            await channel.declare_queue(f"{users_namespace}.spy", auto_delete=True)
        with pytest.raises(ChannelClosed, match="ACCESS_REFUSED"):  # declare an exchange to route through
            channel = await connection.channel()
            await channel.declare_exchange(f"{users_namespace}.spy", aio_pika.ExchangeType.FANOUT)


async def test_a_service_runs_with_its_own_user_on_the_topology_the_command_declared(
    applied: dict[str, str], users_namespace: str, empty_database_url: str
):
    """The publisher falls back to checking the topology, the consumer reads its own queue."""
    topology = Topology(users_namespace)
    publisher = EventPublisher(applied["intake"], topology)
    await publisher.connect()
    try:
        allowed = Envelope.wrap(case_reported("TN-2026-000101"), producer="intake")
        assert await publisher.publish_many([(allowed, allowed.model_dump_json().encode())]) == [True]
    finally:
        await publisher.close()

    engine = make_engine(empty_database_url)
    schema = ToySchema()
    await schema.create(engine)
    seen: list[str] = []

    async def on_case_reported(event: CaseReported, ctx: HandlerContext) -> None:
        seen.append(event.code)

    consumer = EventConsumer(
        service="routing",
        session_factory=make_session_factory(engine),
        inbox=schema.inbox,
        handlers={CaseReported: on_case_reported},
    )
    broker = RabbitBroker(applied["routing"], logger=None)
    consumer.subscribe(broker, topology, prefetch=10)
    await broker.start()
    try:
        await eventually(lambda: asyncio.sleep(0, result=seen == ["TN-2026-000101"]))
    finally:
        await consumer.close()
        await broker.stop()
        await engine.dispose()


@pytest.mark.parametrize("batch_size", [1, 20])
async def test_consumers_dead_letter_an_envelope_whose_producer_or_routing_key_is_not_the_catalogues(
    empty_database_url: str, amqp_vhost_url: str, broker_namespace: str, batch_size: int, caplog
):
    topology = Topology(broker_namespace)
    engine = make_engine(empty_database_url)
    schema = ToySchema()
    await schema.create(engine)
    applied: list[str] = []

    async def on_case_reported(event: CaseReported, ctx: HandlerContext) -> None:
        applied.append(event.code)

    consumer = EventConsumer(
        service="routing",
        session_factory=make_session_factory(engine),
        inbox=schema.inbox,
        handlers={CaseReported: on_case_reported},
        batch_size=batch_size,
    )
    refused_before = EVENTS_CONSUMED.labels("routing", "case.reported", "refused")._value.get()
    connection = await aio_pika.connect(amqp_vhost_url)
    broker = RabbitBroker(amqp_vhost_url, logger=None)
    try:
        channel = await connection.channel()
        await topology.declare(channel)
        consumer.subscribe(broker, topology, prefetch=20)
        await broker.start()
        exchange = await channel.get_exchange(topology.events_exchange)
        genuine = Envelope.wrap(case_reported("TN-2026-000201"), producer="intake")
        forged = genuine.model_copy(update={"event_id": uuid.uuid4(), "producer": "notify"})
        forged = forged.model_copy(update={"payload": {**genuine.payload, "code": "TN-2026-000666"}})
        # A case.reported body under another routing key that routing's queue is bound to.
        smuggled = Envelope.wrap(case_reported("TN-2026-000777"), producer="intake")
        with caplog.at_level(logging.ERROR, logger="shared.consumer"):
            for envelope, key in ((forged, forged.type), (smuggled, "credential.issued"), (genuine, genuine.type)):
                message = aio_pika.Message(envelope.model_dump_json().encode(), type=envelope.type)
                await exchange.publish(message, routing_key=key)
            dead: list[bytes] = []

            async def two_dead_one_applied() -> bool:
                queue = await channel.get_queue(topology.dead_letter_queue("routing"))
                while (message := await queue.get(fail=False, no_ack=True)) is not None:
                    dead.append(message.body)
                return len(dead) == 2 and applied == ["TN-2026-000201"]

            await eventually(two_dead_one_applied, timeout=20)
        assert sorted(Envelope.model_validate_json(body).event_id for body in dead) == sorted(
            [forged.event_id, smuggled.event_id]
        )
        refused = EVENTS_CONSUMED.labels("routing", "case.reported", "refused")._value.get() - refused_before
        assert refused == 2
        assert "claims producer 'notify'" in caplog.text and "routing key 'credential.issued'" in caplog.text
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(schema.inbox)) == 1
    finally:
        await consumer.close()
        await broker.stop()
        await connection.close()
        await engine.dispose()


async def test_a_whole_service_runs_with_its_own_broker_user(applied: dict[str, str], users_namespace: str, base_env):
    """Routing, started with its own user, is ready and consumes a `credential.issued` intake's user publishes."""
    from services.routing import store
    from services.routing.main import create_app
    from services.routing.settings import RoutingSettings
    from shared.auth import new_token
    from tests.support.asgi import running

    values = {key.lower(): value for key, value in base_env.items()}
    values.update(rabbitmq_url=applied["routing"], broker_namespace=users_namespace)
    app = create_app(RoutingSettings(**values))
    async with running(app) as client:
        assert (await client.get("/readyz")).status_code == 200
        key_id, token, digest = new_token()
        issued = CredentialIssued(
            key_id=key_id,
            token_sha256=digest,
            account_id=uuid.uuid4(),
            role="chair",
            issued_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        envelope = Envelope.wrap(issued, producer="intake")
        publisher = EventPublisher(applied["intake"], Topology(users_namespace))
        await publisher.connect()
        try:
            assert await publisher.publish_many([(envelope, envelope.model_dump_json().encode())]) == [True]
        finally:
            await publisher.close()

        async def known() -> bool:
            async with app.state.runtime.sessions() as session:
                found = await session.execute(select(store.credentials).where(store.credentials.c.key_id == key_id))
                return found.first() is not None

        await eventually(known)
        assert (await client.get("/v1/members", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_a_service_replays_its_own_dead_letters_with_its_own_user_and_no_other_service_s(
    applied: dict[str, str], users_namespace: str, amqp_vhost_url: str, base_env
):
    """`shared.deadletters` in routing, on routing's own broker user: an operator sees the dead letter's metadata
    (never its body), replays it to routing's queue only (routing then handles it), and the user may publish to
    the replay exchange with its own name only."""
    from services.routing import store
    from services.routing.main import create_app
    from services.routing.settings import RoutingSettings
    from shared.auth import new_token
    from tests.support.asgi import running

    topology = Topology(users_namespace)
    with pytest.raises(ChannelClosed, match="ACCESS_REFUSED"):  # into notify's queue through the replay exchange
        await _publish(applied["routing"], topology.replay_exchange, "notify")
    with pytest.raises(ChannelClosed, match="ACCESS_REFUSED"):  # another service's dead letters
        connection = await aio_pika.connect(applied["routing"])
        async with connection:
            channel = await connection.channel()
            queue = await channel.get_queue(topology.dead_letter_queue("notify"), ensure=False)
            await queue.get(no_ack=False, fail=False)

    def issued(role: str) -> tuple[Envelope, str, str]:
        key_id, token, digest = new_token()
        event = CredentialIssued(
            key_id=key_id,
            token_sha256=digest,
            account_id=uuid.uuid4(),
            role=role,
            issued_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        return Envelope.wrap(event, producer="intake"), token, key_id

    values = {key.lower(): value for key, value in base_env.items()}
    values.update(rabbitmq_url=applied["routing"], broker_namespace=users_namespace)
    app = create_app(RoutingSettings(**values))
    async with running(app) as client:
        operator, operator_token, _ = issued("operator")
        publisher = EventPublisher(applied["intake"], topology)
        await publisher.connect()
        try:
            assert await publisher.publish_many([(operator, operator.model_dump_json().encode())]) == [True]
        finally:
            await publisher.close()
        headers = {"Authorization": f"Bearer {operator_token}"}

        async def operator_known() -> bool:
            return (await client.get("/v1/dead-letters", headers=headers)).status_code == 200

        await eventually(operator_known)
        dead, _, dead_key = issued("chair")  # a dead letter in routing's queue, put there by the administrator
        connection = await aio_pika.connect(amqp_vhost_url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            await channel.default_exchange.publish(
                aio_pika.Message(
                    dead.model_dump_json().encode(), type=dead.type, message_id=str(dead.event_id), app_id="intake"
                ),
                routing_key=topology.dead_letter_queue("routing"),
            )
        listed = (await client.get("/v1/dead-letters", headers=headers)).json()
        assert listed["count"] == 1 and listed["queue"] == topology.dead_letter_queue("routing")
        (letter,) = listed["letters"]
        assert letter["event_id"] == str(dead.event_id) and letter["event_type"] == "credential.issued"
        assert letter["producer"] == "intake" and dead_key not in str(listed), "metadata only, never the body"
        assert (await client.get("/v1/dead-letters", headers=headers)).json()["count"] == 1, "listing takes nothing"

        assert (await client.post(f"/v1/dead-letters/{uuid.uuid4()}/replay", headers=headers)).status_code == 404
        replayed = await client.post(f"/v1/dead-letters/{dead.event_id}/replay", headers=headers)
        assert replayed.status_code == 200 and replayed.json() == {"service": "routing", "replayed": 1, "remaining": 0}

        async def handled() -> bool:
            async with app.state.runtime.sessions() as session:
                found = await session.execute(select(store.credentials).where(store.credentials.c.key_id == dead_key))
                return found.first() is not None

        await eventually(handled)
        chair = {"Authorization": f"Bearer {operator_token}"}
        assert (await client.post("/v1/dead-letters/replay", headers=chair)).json()["replayed"] == 0
        refused = await client.get("/v1/dead-letters", headers={"Authorization": "Bearer cn_x_y"})
        assert refused.status_code == 401
