"""A listener on the events exchange that records every event of one namespace, as an observer would.

The end-to-end tests read what routing decided (`case.assigned`: which members, which channels) from
the wire rather than from routing's tables, and take real envelopes from here to deliver them twice.
The tap's queue is exclusive and auto-deleted: it disappears with the test. It consumes without
acknowledgements (an observer's copy, lost only if the tap itself goes): each ack was broker work that the
benchmark counted as RabbitMQ's CPU per case. For the same reason the benchmark binds it to the two types it
reads (`types`): every event copied to the tap is a delivery the broker makes for the observer, not the system.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from shared.events import Envelope
from shared.topology import Topology


class EventTap:
    def __init__(self, amqp_url: str, namespace: str, types: tuple[str, ...] = ("#",)) -> None:
        self.amqp_url = amqp_url
        self.types = types  # routing keys bound (event types; "#" is every event)
        self.topology = Topology(namespace)
        self.envelopes: list[Envelope] = []
        self._seen: set[Any] = set()
        self._connection: AbstractRobustConnection | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self.amqp_url)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(
            self.topology.events_exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for routing_key in self.types:
            await queue.bind(exchange, routing_key=routing_key)
        await queue.consume(self._on_message, no_ack=True)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        envelope = Envelope.model_validate_json(message.body)
        if envelope.event_id not in self._seen:  # the relay is at-least-once: keep one of each
            self._seen.add(envelope.event_id)
            self.envelopes.append(envelope)

    def of_type(self, event_type: str) -> list[Envelope]:
        return [e for e in self.envelopes if e.type == event_type]

    def assigned_by_case(self) -> dict[str, list[Envelope]]:
        """`case.assigned` envelopes by case code (more than one per code would be a routing bug)."""
        by_code: dict[str, list[Envelope]] = defaultdict(list)
        for envelope in self.of_type("case.assigned"):
            by_code[envelope.payload["code"]].append(envelope)
        return by_code

    async def publish_again(self, envelope: Envelope) -> None:
        """Deliver an event a second time, byte for byte the same envelope (same `event_id`)."""
        connection = await aio_pika.connect(self.amqp_url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(self.topology.events_exchange)
            await exchange.publish(
                aio_pika.Message(
                    envelope.model_dump_json().encode(),
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    message_id=str(envelope.event_id),
                    type=envelope.type,
                ),
                routing_key=envelope.type,
                mandatory=True,
            )
        await asyncio.sleep(0)


def _people(assigned: Envelope) -> list[dict[str, Any]]:
    """The assigned members, and the chair people told when a field has no available member."""
    members = [a["member"] for a in assigned.payload.get("assignments", [])]
    return members + list(assigned.payload.get("chair", []))


def email_recipients(assigned: Envelope) -> set[str]:
    """Addresses routing asked notify to email for one `case.assigned`."""
    out = set()
    for member in _people(assigned):
        if member.get("email") and "email" in member.get("channels", ["email", "zalo"]):
            out.add(member["email"].lower())
    return out


def zalo_recipients(assigned: Envelope) -> set[str]:
    out = set()
    for member in _people(assigned):
        if member.get("zalo_user_id") and "zalo" in member.get("channels", ["email", "zalo"]):
            out.add(member["zalo_user_id"])
    return out
