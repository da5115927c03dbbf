"""Broker topology, derived from the event catalogue.

- `<ns>.events`: one durable topic exchange for every domain event; the routing key is the event type.
- `<ns>.<service>`: one durable quorum queue per consuming service, bound to the types it listens to
  (`Event.CONSUMERS`), with a delivery limit and at-least-once dead-lettering.
- `<ns>.replay`: a topic exchange binding each service's queue by the service's name, where an operator's
  replay of a dead letter goes (`shared.deadletters`): back to that service only.
- `<ns>.dead-letter`: a direct exchange feeding `<ns>.<service>.dead-letter`, one quorum queue per
  service, where messages that failed `delivery_limit` times (or could not be parsed) wait for an
  operator.

Pinned to RabbitMQ 3.10 behaviour: quorum queues count redeliveries in `x-delivery-count` and
dead-letter past `x-delivery-limit`; `at-least-once` dead-lettering needs `x-overflow: reject-publish`.
Every service declares the whole topology at start-up (declarations are idempotent), so an event is
never published before the queue that must keep it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import aio_pika
from aio_pika.abc import AbstractChannel
from faststream.rabbit import ExchangeType, QueueType, RabbitExchange, RabbitQueue

from shared.events import consumed_by
from shared.events.base import SERVICES


@dataclass(frozen=True)
class Topology:
    namespace: str = "caunoi"
    delivery_limit: int = 5

    @property
    def events_exchange(self) -> str:
        return f"{self.namespace}.events"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.namespace}.dead-letter"

    @property
    def replay_exchange(self) -> str:
        """Topic exchange binding each service's queue by the service's name: a dead letter replayed there
        reaches that service only (`shared.deadletters`)."""
        return f"{self.namespace}.replay"

    def queue(self, service: str) -> str:
        return f"{self.namespace}.{service}"

    def dead_letter_queue(self, service: str) -> str:
        return f"{self.namespace}.{service}.dead-letter"

    def binding_keys(self, service: str) -> list[str]:
        return sorted({cls.TYPE for cls in consumed_by(service)})

    def queue_arguments(self, service: str) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": self.dead_letter_exchange,
            "x-dead-letter-routing-key": service,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    async def check(self, channel: AbstractChannel) -> None:
        """Passive declarations (no permission needed): raise if the exchanges or a queue are missing."""
        for exchange in (self.events_exchange, self.dead_letter_exchange, self.replay_exchange):
            await channel.get_exchange(exchange, ensure=True)
        for service in SERVICES:
            if self.binding_keys(service):
                await channel.get_queue(self.queue(service), ensure=True)

    # --- the same topology as FastStream's typed declarations (the consumer's subscription, AsyncAPI) ---

    def rabbit_exchange(self, *, declare: bool = True) -> RabbitExchange:
        return RabbitExchange(self.events_exchange, type=ExchangeType.TOPIC, durable=True, declare=declare)

    def rabbit_dead_letter_exchange(self, *, declare: bool = True) -> RabbitExchange:
        return RabbitExchange(self.dead_letter_exchange, type=ExchangeType.DIRECT, durable=True, declare=declare)

    def rabbit_queue(self, service: str, *, routing_key: str = "", declare: bool = True) -> RabbitQueue:
        """The service's quorum queue (`routing_key`: one of its bindings, for a subscriber that names it)."""
        return RabbitQueue(
            self.queue(service),
            queue_type=QueueType.QUORUM,
            durable=True,
            arguments=cast(Any, self.queue_arguments(service)),  # x-dead-letter-* are not in QuorumQueueArgs
            routing_key=routing_key,
            declare=declare,
        )

    def rabbit_dead_letter_queue(self, service: str, *, declare: bool = True) -> RabbitQueue:
        return RabbitQueue(
            self.dead_letter_queue(service),
            queue_type=QueueType.QUORUM,
            durable=True,
            routing_key=service,
            declare=declare,
        )

    async def declare(self, channel: AbstractChannel) -> None:
        """Declare exchanges, every consuming service's queue, dead-letter queue and bindings."""
        events = await channel.declare_exchange(self.events_exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        dlx = await channel.declare_exchange(self.dead_letter_exchange, aio_pika.ExchangeType.DIRECT, durable=True)
        replay = await channel.declare_exchange(self.replay_exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        for service in SERVICES:
            keys = self.binding_keys(service)
            if not keys:
                continue
            dlq = await channel.declare_queue(
                self.dead_letter_queue(service), durable=True, arguments={"x-queue-type": "quorum"}
            )
            await dlq.bind(dlx, routing_key=service)
            queue = await channel.declare_queue(
                self.queue(service), durable=True, arguments=self.queue_arguments(service)
            )
            for key in keys:
                await queue.bind(events, routing_key=key)
            await queue.bind(replay, routing_key=service)
