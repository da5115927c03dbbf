"""A service's own dead-letter queue over HTTP, for operators (the web service's operator pages call it):

- `GET  /v1/dead-letters`                    how many wait in `<ns>.<service>.dead-letter`, and the first ones'
                                             envelope metadata (never the payload, which may be about a child);
- `POST /v1/dead-letters/{event_id}/replay`  that one back to the service's own queue;
- `POST /v1/dead-letters/replay`             all of them (those waiting when the replay began).

Mounted by `shared.service` in every service that consumes events; only the `operator` role. Each call opens
the service's own broker connection (its `RABBITMQ_URL`). A replay publishes a copy, unchanged (same
`event_id`, persistent), to `<ns>.replay` with the service's name as routing key, which routes to the
service's queue only (other consumers do not get it again), waits for the broker's confirm, and only then
acknowledges (removes) the dead letter; without a confirm the dead letter stays. A service's broker user may
publish to `<ns>.replay` only with its own name (`shared.broker_permissions`), and its consumer takes such a
delivery without the routing-key check (`shared.consumer`): the operator decided. Consumers are idempotent
by `event_id`, so replaying an event that was in fact processed changes nothing.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from shared.auth import Authenticator, Principal
from shared.errors import NotFound
from shared.http_errors import problems
from shared.topology import Topology

log = logging.getLogger(__name__)
MAX_SHOWN = 200


class DeadLetter(BaseModel):
    """What an operator may see of a dead letter: its envelope's metadata and why it died."""

    event_id: str | None = Field(description="The envelope's event id (the message id)")
    event_type: str | None
    producer: str | None
    occurred_at: datetime | None
    correlation_id: str | None
    reason: str | None = Field(description="rejected (refused or unreadable), delivery_limit, expired, maxlen")
    death_count: int | None = Field(description="How many times it was dead-lettered from that queue")
    died_at: datetime | None
    from_queue: str | None
    routing_key: str | None = Field(description="The routing key it was first published with")
    size: int = Field(description="Bytes of the body (the body itself is never shown)")


class DeadLetters(BaseModel):
    service: str
    queue: str
    count: int
    letters: list[DeadLetter]


class Replayed(BaseModel):
    service: str
    replayed: int
    remaining: int


def _last_death(message: AbstractIncomingMessage) -> dict[str, Any]:
    """The newest entry of `x-death` (the broker keeps one per queue and reason, newest first)."""
    deaths = (message.headers or {}).get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        return deaths[0]
    return {}


def describe(message: AbstractIncomingMessage) -> DeadLetter:
    """The metadata of a dead letter, from the message's properties and `x-death` header only."""
    death = _last_death(message)
    keys = death.get("routing-keys")
    died = death.get("time")
    return DeadLetter(
        event_id=message.message_id,
        event_type=message.type,
        producer=message.app_id,
        occurred_at=message.timestamp,
        correlation_id=message.correlation_id,
        reason=str(death["reason"]) if death.get("reason") is not None else None,
        death_count=int(death["count"]) if death.get("count") is not None else None,
        died_at=died if isinstance(died, datetime) else None,
        from_queue=str(death["queue"]) if death.get("queue") is not None else None,
        routing_key=str(keys[0]) if isinstance(keys, list) and keys else None,
        size=len(message.body),
    )


def copy_of(message: AbstractIncomingMessage) -> aio_pika.Message:
    """The dead letter as it was first published (same id, type, producer, body), persistent, without the
    broker's `x-` headers."""
    headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")}
    return aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        type=message.type,
        timestamp=message.timestamp,
        app_id=message.app_id,
    )


class DeadLetterQueue:
    """One service's dead-letter queue, through a connection of the service's own broker user."""

    def __init__(self, url: str, topology: Topology, service: str) -> None:
        self.url = url
        self.topology = topology
        self.service = service

    @contextlib.asynccontextmanager
    async def _open(self) -> AsyncIterator[tuple[AbstractChannel, AbstractQueue]]:
        connection = await aio_pika.connect(self.url, client_properties={"connection_name": "dead-letters"})
        async with connection:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            queue = await channel.get_queue(self.topology.dead_letter_queue(self.service), ensure=True)
            yield channel, queue

    async def _count(self, channel: AbstractChannel) -> int:
        declared = await channel.declare_queue(self.topology.dead_letter_queue(self.service), passive=True)
        return int(declared.declaration_result.message_count or 0)

    async def inspect(self, limit: int) -> DeadLetters:
        """Count and describe the first `limit` dead letters, leaving every one of them in the queue."""
        async with self._open() as (channel, queue):
            taken: list[AbstractIncomingMessage] = []
            try:
                while len(taken) < limit and (message := await queue.get(no_ack=False, fail=False)) is not None:
                    taken.append(message)
                letters = [describe(m) for m in taken]
            finally:
                for message in taken:  # back where they were
                    await message.nack(requeue=True)
            count = await self._count(channel)
        return DeadLetters(service=self.service, queue=queue.name, count=max(count, len(letters)), letters=letters)

    async def replay(self, event_id: str | None) -> Replayed:
        """Replay the dead letter with `event_id` (None: every one waiting now). Raises `NotFound` when there
        is no such dead letter."""
        async with self._open() as (channel, queue):
            exchange = await channel.get_exchange(self.topology.replay_exchange, ensure=True)
            waiting = await self._count(channel)
            passed: list[AbstractIncomingMessage] = []
            replayed = 0
            try:
                for _ in range(waiting):
                    message = await queue.get(no_ack=False, fail=False)
                    if message is None:
                        break
                    if event_id is not None and message.message_id != event_id:
                        passed.append(message)
                        continue
                    # `publish` returns once the broker confirmed (publisher confirms on this channel); an
                    # unroutable copy (`mandatory`) or a refusal raises, and the dead letter stays.
                    await exchange.publish(copy_of(message), routing_key=self.service, mandatory=True)
                    await message.ack()
                    replayed += 1
                    log.info("replayed dead letter %s (%s) to %s", message.message_id, message.type, self.service)
                    if event_id is not None:
                        break
            finally:
                for message in passed:
                    await message.nack(requeue=True)
            remaining = await self._count(channel)
        if event_id is not None and replayed == 0:
            raise NotFound("No such dead letter.", "Không có thư chết này.")
        return Replayed(service=self.service, replayed=replayed, remaining=remaining)


def dead_letter_router(service: str, auth: Authenticator) -> APIRouter:
    """The operator's endpoints on `service`'s own dead-letter queue."""
    router = APIRouter(prefix="/v1/dead-letters", tags=["operations"])
    operator = Depends(auth.require("operator"))  # a default, not an alias: annotations here are strings

    def queue_of(request: Request) -> DeadLetterQueue:
        runtime = request.app.state.runtime
        return DeadLetterQueue(runtime.settings.rabbitmq_url, runtime.topology, service)

    @router.get(
        "", response_model=DeadLetters, summary="Dead letters waiting (metadata only)", responses=problems(401, 403)
    )
    async def dead_letters(
        request: Request, limit: Annotated[int, Query(ge=0, le=MAX_SHOWN)] = 50, _operator: Principal = operator
    ) -> DeadLetters:
        return await queue_of(request).inspect(limit)

    @router.post("/replay", response_model=Replayed, summary="Replay every dead letter", responses=problems(401, 403))
    async def replay_all(request: Request, _operator: Principal = operator) -> Replayed:
        return await queue_of(request).replay(None)

    @router.post(
        "/{event_id}/replay",
        response_model=Replayed,
        summary="Replay one dead letter",
        responses=problems(401, 403, 404),
    )
    async def replay_one(request: Request, event_id: uuid.UUID, _operator: Principal = operator) -> Replayed:
        return await queue_of(request).replay(str(event_id))

    return router
