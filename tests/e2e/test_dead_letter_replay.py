"""The operator's dead-letter CLI (`python -m scripts.dead_letters`) shows dead letters without taking
them, and replays each one, unchanged, to the service's own queue only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import aio_pika

from scripts.dead_letters import replay, show
from shared.events import Envelope
from shared.events.intake import CaseReported
from shared.topology import Topology


async def test_show_leaves_dead_letters_in_place_and_replay_moves_them_to_the_service_queue(
    amqp_vhost_url, broker_namespace
):
    topology = Topology(broker_namespace)
    envelope = Envelope.wrap(
        CaseReported(
            case_id=uuid.uuid4(),
            code="TN-2026-000009",
            unit="phuong-tan-ninh",
            category="neglect",
            urgency="medium",
            protection_level="support",
            reported_at=datetime.now(UTC),
        ),
        producer="intake",
    )
    connection = await aio_pika.connect(amqp_vhost_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await topology.declare(channel)
        await channel.default_exchange.publish(
            aio_pika.Message(
                envelope.model_dump_json().encode(), type=envelope.type, message_id=str(envelope.event_id)
            ),
            routing_key=topology.dead_letter_queue("routing"),
        )

        assert await show(amqp_vhost_url, topology, "routing") == 1
        assert await show(amqp_vhost_url, topology, "routing") == 1, "show does not consume"
        assert await replay(amqp_vhost_url, topology, "routing", None) == 1

        routing_queue = await channel.get_queue(topology.queue("routing"))
        replayed = await routing_queue.get(no_ack=True, fail=False)
        assert replayed is not None and Envelope.model_validate_json(replayed.body) == envelope
        reporting_queue = await channel.get_queue(topology.queue("reporting"))
        assert await reporting_queue.get(no_ack=True, fail=False) is None, "other services do not get it again"
        assert await show(amqp_vhost_url, topology, "routing") == 0
