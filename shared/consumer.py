"""Idempotent event consumption: one service queue, handlers by event type, inbox in the same
transaction as the handler's effect, ack only after commit.

Outcomes of one delivery:
- processed: the inbox row, the handler's writes and any events it emitted commit together; then ack.
- duplicate: the `event_id` is already in the inbox (a redelivery); nothing runs; ack.
- ignored: a type this service has no handler for (a stale binding); ack.
- poison: the body is not an envelope of a known event; reject without requeue → dead-letter queue.
- handler error: back off, then nack with requeue; the quorum queue counts deliveries and
  dead-letters the event past `delivery_limit`.
- transient database failure (unreachable, too many connections, shutting down, deadlock, serialization
  failure): the event is not at fault, so it is retried in place with back-off until it goes through (the
  delivery is not counted against the limit).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from faststream import AckPolicy
from faststream.rabbit import Channel, QueueType, RabbitBroker, RabbitMessage, RabbitQueue
from faststream.rabbit.annotations import RabbitMessage as MessageFromContext
from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import Clock, SystemClock
from shared.dberrors import is_transient
from shared.events import Envelope, Event, UnknownEvent
from shared.logging import correlation_id_var
from shared.metrics import EVENTS_CONSUMED, HANDLER_SECONDS
from shared.outbox import Outbox
from shared.topology import Topology

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandlerContext:
    """What a handler gets besides its event: the open transaction and a way to emit events."""

    session: AsyncSession
    envelope: Envelope
    outbox: Outbox | None
    clock: Clock

    async def emit(self, event: Event, *, key: Any = None) -> Envelope:
        """Add an event to the outbox in this transaction, caused by the event being handled."""
        if self.outbox is None:
            raise RuntimeError("this service emits no events")
        return await self.outbox.add(self.session, event, key=key, caused_by=self.envelope)


Handler = Callable[[Any, HandlerContext], Awaitable[None]]


class PoisonMessage(Exception):
    """The message can never be processed: it goes straight to the dead-letter queue."""


class EventConsumer:
    def __init__(
        self,
        *,
        service: str,
        session_factory: async_sessionmaker[AsyncSession],
        inbox: Table,
        handlers: Mapping[type[Event], Handler],
        outbox: Outbox | None = None,
        clock: Clock | None = None,
        max_backoff: float = 30.0,
    ) -> None:
        self.service = service
        self._sessions = session_factory
        self._inbox = inbox
        self._handlers = {(cls.TYPE, cls.VERSION): h for cls, h in handlers.items()}
        self._outbox = outbox
        self._clock = clock or SystemClock()
        self._max_backoff = max_backoff
        self.stopping = False
        self.max_transient_retries = 40  # about 15 minutes with the back-off capped at 30 s

    async def process(self, body: bytes) -> str:
        """Handle one message body. Returns the outcome; raises `PoisonMessage` or the handler's error."""
        try:
            envelope = Envelope.model_validate_json(body)
        except ValidationError as exc:
            raise PoisonMessage(f"not an envelope: {exc.error_count()} errors") from exc
        handler = self._handlers.get((envelope.type, envelope.version))
        if handler is None:
            return "ignored"
        try:
            event = envelope.event()
        except (ValidationError, UnknownEvent) as exc:
            raise PoisonMessage(f"bad {envelope.type} payload") from exc
        token = correlation_id_var.set(str(envelope.correlation_id))
        started = time.perf_counter()
        try:
            async with self._sessions() as session, session.begin():
                first_time = (
                    await session.execute(
                        insert(self._inbox)
                        .values(event_id=envelope.event_id, type=envelope.type)
                        .on_conflict_do_nothing()
                        .returning(self._inbox.c.event_id)
                    )
                ).first()
                if first_time is None:
                    return "duplicate"
                await handler(event, HandlerContext(session, envelope, self._outbox, self._clock))
            HANDLER_SECONDS.labels(self.service, envelope.type).observe(time.perf_counter() - started)
            return "processed"
        finally:
            correlation_id_var.reset(token)

    async def on_message(self, message: RabbitMessage) -> None:
        """FastStream entry point (manual acknowledgement)."""
        event_type = (message.raw_message.type or "unknown")[:100]
        infra_wait, infra_attempts = 0.5, 0
        while True:
            try:
                outcome = await self.process(message.body)
            except PoisonMessage as exc:
                log.error("dead-lettering unprocessable message %s: %s", message.message_id, exc)
                EVENTS_CONSUMED.labels(self.service, event_type, "poison").inc()
                await message.reject(requeue=False)
                return
            except Exception as exc:
                infra_attempts += 1
                # Bounded, so a bug that merely looks transient still ends in the dead-letter queue.
                if is_transient(exc) and not self.stopping and infra_attempts <= self.max_transient_retries:
                    log.warning("transient database failure, retrying event %s in place: %r", message.message_id, exc)
                    await asyncio.sleep(infra_wait)
                    infra_wait = min(infra_wait * 2, self._max_backoff)
                    continue
                deliveries = int((message.headers or {}).get("x-delivery-count", 0) or 0)
                delay = min(0.25 * 2**deliveries, self._max_backoff)
                log.exception(
                    "handler failed for %s (delivery %d), requeue in %.1fs", message.message_id, deliveries + 1, delay
                )
                EVENTS_CONSUMED.labels(self.service, event_type, "retried").inc()
                if not self.stopping:
                    await asyncio.sleep(delay)
                await message.nack(requeue=True)
                return
            EVENTS_CONSUMED.labels(self.service, event_type, outcome).inc()
            await message.ack()
            return

    def subscribe(self, broker: RabbitBroker, topology: Topology, prefetch: int) -> None:
        queue = RabbitQueue(topology.queue(self.service), queue_type=QueueType.QUORUM, declare=False)

        async def consume(message: MessageFromContext) -> None:
            await self.on_message(message)

        broker.subscriber(
            queue,
            channel=Channel(prefetch_count=prefetch),
            ack_policy=AckPolicy.MANUAL,
            title=f"{self.service} events",
        )(consume)
