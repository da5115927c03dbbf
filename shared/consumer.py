"""Idempotent event consumption: one service queue, handlers by event type, inbox in the same
transaction as the handler's effect, ack only after commit.

Outcomes of one delivery:
- processed: the inbox row, the handler's writes and any events it emitted commit together; then ack.
- duplicate: the `event_id` is already in the inbox (a redelivery); nothing runs; ack.
- ignored: a type this service has no handler for (a stale binding); ack.
- poison: the body is not an envelope of a known event; reject without requeue → dead-letter queue.
- refused: the envelope names a producer other than the catalogue's producer of its type, or came with a
  routing key other than its type (the routing key is what the broker's topic permissions check, see
  `shared.broker_permissions`); logged and dead-lettered like poison, counted as `refused`.
- handler error: back off, then nack with requeue; the quorum queue counts deliveries and
  dead-letters the event past `delivery_limit`.
- transient database failure (unreachable, too many connections, shutting down, deadlock, serialization
  failure): the event is not at fault, so it is retried in place with back-off until it goes through (the
  delivery is not counted against the limit).

Batches (`batch_size` > 1, the `CONSUMER_BATCH_SIZE` setting): the subscriber only queues each delivery
in memory (at most the channel's prefetch of them are unacknowledged), and one worker takes every queued
delivery, up to `batch_size`, into one transaction: one multi-row inbox insert, the handlers in delivery
order (after the `before_handlers` hook, given the batch's new events), the `before_commit` hook, one
commit, then the acks. A single event goes through the same transaction code with a batch of one. The
effects are those of one transaction per event, in the same order; what a batch saves is a transaction,
a round trip per statement and the handler's own per-transaction work (reporting stores the batch's
events with one INSERT and writes its counters once). A transient database error retries the whole batch
in place. If a handler raises, the batch is rolled back; the events before the failing one go through
again as a batch, the failing one alone (so it meets exactly the outcomes listed above), then the rest.
Any other failure (a hook, the commit) sends the batch through one event at a time. Poison deliveries
never enter a batch. A delivery whose channel died while it waited (broker connection lost) cannot be
acknowledged; the broker redelivers it and the inbox recognises it. With `batch_wait` (`CONSUMER_BATCH_WAIT`)
a batch's first delivery waits that long for more when fewer than a batch are queued: fewer, larger
transactions at low rates (reporting), at the price of that much latency.

A committed batch is acknowledged with one `basic.ack multiple=True` on its last delivery instead of one ack
per event (the broker settles a quorum queue's acks one command each: about 0.2 ms of its CPU per event, 0.05
with one ack per batch). That acknowledges every delivery of the channel up to that tag, so it is only used
while `DeliveryTags` knows that every earlier delivery of the channel was already settled: the channel's tags
came to the worker in order without a gap (each earlier one went through an earlier batch or this one) and
no batch was abandoned unsettled; otherwise each event is acknowledged alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from faststream import AckPolicy
from faststream.message import StreamMessage
from faststream.rabbit import Channel, RabbitBroker, RabbitMessage
from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import Clock, SystemClock
from shared.dberrors import is_transient
from shared.events import Envelope, Event, UnknownEvent, event_class
from shared.events.base import wire_versions
from shared.logging import correlation_id_var
from shared.metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, HANDLER_SECONDS
from shared.outbox import Outbox
from shared.topology import Topology
from shared.uow import UnitOfWork
from shared.worker import Signals

log = logging.getLogger(__name__)


class HandlerContext(UnitOfWork):
    """What a handler gets besides its event: the consumer's unit of work, caused by the event being handled
    (`ctx.emit(...)` sets correlation and causation; `ctx.envelope` is the event's envelope)."""

    @property
    def envelope(self) -> Envelope:
        assert self.caused_by is not None
        return self.caused_by


Handler = Callable[[Any, HandlerContext], Awaitable[None]]


class PoisonMessage(Exception):
    """The message can never be processed: it goes straight to the dead-letter queue."""


class RefusedEnvelope(PoisonMessage):
    """The envelope's producer or routing key contradicts the catalogue: dead-lettered, never handled."""


def check_origin(envelope: Envelope, routing_key: str | None) -> None:
    """Raise `RefusedEnvelope` unless the catalogue's producer of the type is the envelope's producer and the
    delivery's routing key (None: not known, e.g. a direct call) is the envelope's type."""
    cls = event_class(envelope.type, envelope.version)
    if cls is not None and envelope.producer != cls.PRODUCER:
        raise RefusedEnvelope(
            f"{envelope.type} claims producer {envelope.producer!r}, the catalogue says {cls.PRODUCER}"
        )
    if routing_key is not None and routing_key != envelope.type:
        raise RefusedEnvelope(f"{envelope.type} arrived with routing key {routing_key[:100]!r}")


class _HandlerFailed(Exception):
    """The handler of the batch's `index`-th event raised (the cause)."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


class DeliveryTags:
    """Whether a batch's deliveries may be acknowledged with one `multiple` ack (see the module doc). The
    worker is fed in delivery order; this watches the channel the deliveries come on and their tags."""

    def __init__(self) -> None:
        self._channel: object = None
        self._last = 0
        self._safe = False

    def seen(self, message: RabbitMessage) -> None:
        """A delivery handed to the worker (in the order they are handed)."""
        raw = message.raw_message
        channel, tag = getattr(raw, "channel", None), getattr(raw, "delivery_tag", None)
        if channel is not self._channel:  # a new channel (a reconnect): its tags start at 1
            self._channel, self._last, self._safe = channel, 0, True
        if not isinstance(tag, int) or tag != self._last + 1:
            self._safe = False  # a gap, or out of order: some delivery did not come through the worker
        self._last = tag if isinstance(tag, int) else self._last

    def abandoned(self) -> None:
        """Deliveries were left unsettled (they come back when the channel closes): no more `multiple` acks
        on this channel, which would acknowledge them."""
        self._safe = False

    def together(self, messages: list[RabbitMessage]) -> bool:
        """True if acknowledging the last of `messages` with `multiple` settles exactly what is still
        unsettled of them and nothing else: all on the current, gap-free channel, in tag order."""
        if not self._safe or len(messages) < 2:
            return False
        tags = []
        for message in messages:
            raw = message.raw_message
            if getattr(raw, "channel", None) is not self._channel:
                return False
            tags.append(getattr(raw, "delivery_tag", None))
        return all(isinstance(t, int) for t in tags) and tags == sorted(set(tags))  # type: ignore[type-var]


_Work = tuple[RabbitMessage, Envelope, Event, Handler]
# Run once per transaction after the inbox insert, with the new events of the transaction in delivery order
# (reporting stores them all in its event store with one statement).
BeforeHandlers = Callable[[AsyncSession, list[tuple[Envelope, Event]]], Awaitable[None]]


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
        batch_size: int = 1,
        batch_wait: float = 0.0,
        before_commit: Callable[[AsyncSession], Awaitable[None]] | None = None,
        before_handlers: BeforeHandlers | None = None,
        settings: Any = None,
        signals: Signals | None = None,
    ) -> None:
        self.service = service
        self._sessions = session_factory
        self._inbox = inbox
        self._handlers = {key: h for cls, h in handlers.items() for key in wire_versions(cls)}
        self._outbox = outbox
        self._clock = clock or SystemClock()
        self._max_backoff = max_backoff
        self._batch_size = batch_size
        self._batch_wait = batch_wait
        self._before_commit = before_commit
        self._before_handlers = before_handlers
        self._settings = settings
        self._signals = signals
        # Built once, run as one multi-row INSERT for a batch (SQLAlchemy's "insertmanyvalues"); a `.values(list)`
        # construct per transaction was built, cache-keyed and compiled for each batch size anew.
        self._record = insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id)
        self._waiting: asyncio.Queue[RabbitMessage] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._busy = asyncio.Lock()
        self._tags = DeliveryTags()
        self._replay_exchange = ""  # set by `subscribe`: deliveries from there skip the routing-key check
        self._delivery_limit: int | None = None  # the queue's, known once subscribed
        self.stopping = False
        self.max_transient_retries = 40  # about 15 minutes with the back-off capped at 30 s

    async def process(self, body: bytes, routing_key: str | None = None) -> str:
        """Handle one message body. Returns the outcome; raises `PoisonMessage` or the handler's error."""
        try:
            envelope = Envelope.model_validate_json(body)
        except ValidationError as exc:
            raise PoisonMessage(f"not an envelope: {exc.error_count()} errors") from exc
        check_origin(envelope, routing_key)
        handler = self._handlers.get((envelope.type, envelope.version))
        if handler is None:
            return "ignored"
        try:
            event = envelope.event()
        except (ValidationError, UnknownEvent) as exc:
            raise PoisonMessage(f"bad {envelope.type} payload") from exc
        return await self._process_parsed(envelope, event, handler)

    async def _process_parsed(self, envelope: Envelope, event: Event, handler: Handler) -> str:
        """`process` for an envelope already parsed and checked."""
        try:
            (outcome,) = await self._transaction([(envelope, event, handler)])
        except _HandlerFailed as failed:
            raise (failed.__cause__ or failed) from None  # the handler's own error, for on_message to judge
        return outcome

    async def on_message(self, message: RabbitMessage, parsed: tuple[Envelope, Event, Handler] | None = None) -> None:
        """FastStream entry point (manual acknowledgement). `parsed`: the delivery's envelope, event and handler,
        when the batch path has already parsed and checked it (a batch of one is not parsed twice)."""
        event_type = (message.raw_message.type or "unknown")[:100]
        infra_wait, infra_attempts = 0.5, 0
        while True:
            try:
                if parsed is not None:
                    outcome = await self._process_parsed(*parsed)
                else:
                    outcome = await self.process(message.body, _routing_key(message, self._replay_exchange))
            except RefusedEnvelope as exc:
                log.error("dead-lettering refused message %s: %s", message.message_id, exc)
                EVENTS_CONSUMED.labels(self.service, event_type, "refused").inc()
                await message.reject(requeue=False)
                return
            except PoisonMessage as exc:
                log.error("dead-lettering unprocessable message %s: %s", message.message_id, exc)
                EVENTS_CONSUMED.labels(self.service, event_type, "poison").inc()
                EVENTS_DEAD_LETTERED.labels(self.service, event_type, "poison").inc()
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
                if self._delivery_limit is not None and deliveries >= self._delivery_limit:
                    # The quorum queue dead-letters a message returned on its last allowed delivery.
                    EVENTS_DEAD_LETTERED.labels(self.service, event_type, "delivery_limit").inc()
                if not self.stopping:
                    await asyncio.sleep(delay)
                await message.nack(requeue=True)
                return
            EVENTS_CONSUMED.labels(self.service, event_type, outcome).inc()
            await message.ack()
            return

    # --- batches ------------------------------------------------------------------------------------

    async def enqueue(self, message: RabbitMessage) -> None:
        """FastStream entry point in batch mode: queue the delivery for the batch worker."""
        if self.stopping:
            self._tags.abandoned()
            return  # left unacknowledged: the broker gives it back when the channel closes
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run_batches(), name=f"{self.service}-consumer-batches")
        self._tags.seen(message)
        self._waiting.put_nowait(message)

    async def close(self) -> None:
        """Stop the batch worker after the batch in hand (queued deliveries stay unacknowledged and come
        back from the broker)."""
        self.stopping = True
        if self._worker is None:
            return
        async with self._busy:  # the batch in progress commits and is acknowledged
            self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker

    async def _run_batches(self) -> None:
        while True:
            batch = [await self._waiting.get()]
            if self._batch_wait > 0 and self._waiting.qsize() < self._batch_size - 1:
                await asyncio.sleep(self._batch_wait)  # `CONSUMER_BATCH_WAIT`: let more events join the batch
            while len(batch) < self._batch_size and not self._waiting.empty():
                batch.append(self._waiting.get_nowait())
            async with self._busy:
                try:
                    await self.process_batch(batch)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a bug here must not stop consumption: logged; the batch's deliveries
                    # stay unacknowledged and come back from the broker when the channel closes
                    self._tags.abandoned()
                    log.exception("batch of %d events failed unexpectedly", len(batch))

    async def process_batch(self, batch: list[RabbitMessage]) -> None:
        """Handle deliveries in one transaction; on failure, one at a time (see the module doc)."""
        work: list[_Work] = []
        one_by_one: list[RabbitMessage] = []
        for message in batch:
            try:
                envelope = Envelope.model_validate_json(message.body)
                check_origin(envelope, _routing_key(message, self._replay_exchange))
                handler = self._handlers.get((envelope.type, envelope.version))
                event = envelope.event() if handler is not None else None
            except (ValidationError, UnknownEvent, RefusedEnvelope):
                one_by_one.append(message)  # poison: the single path dead-letters it with its reason
                continue
            if handler is None or event is None:
                await self._settle(message, envelope.type, "ignored")
                continue
            work.append((message, envelope, event, handler))
        for message in one_by_one:
            await self.on_message(message)
        await self._process_work(work)

    async def _process_work(self, work: list[_Work]) -> None:
        if not work:
            return
        if len(work) == 1:
            message, envelope, event, handler = work[0]
            await self.on_message(message, (envelope, event, handler))
            return
        wait, attempts = 0.5, 0
        while True:
            try:
                outcomes = await self._transaction([(envelope, event, handler) for _, envelope, event, handler in work])
                break
            except Exception as exc:
                failed = exc if isinstance(exc, _HandlerFailed) else None
                cause = (exc.__cause__ or exc) if failed is not None else exc
                attempts += 1
                if is_transient(cause) and not self.stopping and attempts <= self.max_transient_retries:
                    log.warning("transient database failure, retrying a batch of %d events: %r", len(work), cause)
                    await asyncio.sleep(wait)
                    wait = min(wait * 2, self._max_backoff)
                    continue
                if failed is None:  # not one handler's fault (the hook, the commit): one at a time
                    log.warning("a batch of %d events failed (%r); handling them one at a time", len(work), exc)
                    for message, *_ in work:
                        await self.on_message(message)
                    return
                # The events before the failing one go through as a batch, the failing one alone (the
                # single path retries, requeues or dead-letters it), then the rest as a batch.
                log.warning("event %d of a batch of %d failed (%r); handling it alone", failed.index, len(work), cause)
                await self._process_work(work[: failed.index])
                message, envelope, event, handler = work[failed.index]
                await self.on_message(message, (envelope, event, handler))
                await self._process_work(work[failed.index + 1 :])
                return
        messages = [message for message, *_ in work]
        if not self._tags.together(messages):
            for (message, envelope, _, _), outcome in zip(work, outcomes, strict=True):
                await self._settle(message, envelope.type, outcome)
            return
        for (_, envelope, _, _), outcome in zip(work, outcomes, strict=True):
            EVENTS_CONSUMED.labels(self.service, envelope.type[:100], outcome).inc()
        await self._ack(messages[-1], multiple=True)

    async def _transaction(self, work: list[tuple[Envelope, Event, Handler]]) -> list[str]:
        """One transaction: inbox rows, hooks and handlers of `work` in order; the outcome of each.
        A handler's error comes out as `_HandlerFailed` with its index (the cause is the error)."""
        started = time.perf_counter()
        async with self._sessions() as session, session.begin():
            ids = list(dict.fromkeys(envelope.event_id for envelope, _, _ in work))
            types = {envelope.event_id: envelope.type for envelope, _, _ in work}
            inserted = await session.execute(self._record, [{"event_id": i, "type": types[i]} for i in ids])
            fresh = set(inserted.scalars().all())
            if self._before_handlers is not None:
                first: dict[Any, tuple[Envelope, Event]] = {}
                for envelope, event, _ in work:
                    if envelope.event_id in fresh:
                        first.setdefault(envelope.event_id, (envelope, event))
                await self._before_handlers(session, list(first.values()))
            outcomes = []
            contexts: list[HandlerContext] = []
            for index, (envelope, event, handler) in enumerate(work):
                if envelope.event_id not in fresh:
                    outcomes.append("duplicate")
                    continue
                fresh.discard(envelope.event_id)  # a second copy in the same batch is a duplicate
                token = correlation_id_var.set(str(envelope.correlation_id))
                ctx = HandlerContext(
                    session,
                    outbox=self._outbox,
                    clock=self._clock,
                    settings=self._settings,
                    caused_by=envelope,
                    signals=self._signals,
                )
                contexts.append(ctx)
                try:
                    await handler(event, ctx)
                except Exception as exc:
                    raise _HandlerFailed(index) from exc
                finally:
                    correlation_id_var.reset(token)
                outcomes.append("processed")
            if self._outbox is not None:
                await self._outbox.flush(session)  # every event the batch's handlers emitted, in one INSERT
            if self._before_commit is not None:
                await self._before_commit(session)
        for ctx in contexts:
            ctx.committed()
        per_event = (time.perf_counter() - started) / len(work)
        for (envelope, _, _), outcome in zip(work, outcomes, strict=True):
            if outcome == "processed":
                HANDLER_SECONDS.labels(self.service, envelope.type).observe(per_event)
        return outcomes

    async def _settle(self, message: RabbitMessage, event_type: str, outcome: str) -> None:
        EVENTS_CONSUMED.labels(self.service, event_type[:100], outcome).inc()
        await self._ack(message)

    async def _ack(self, message: RabbitMessage, *, multiple: bool = False) -> None:
        try:
            await message.ack(multiple=multiple)
        except Exception as exc:  # the channel it came on is gone: the broker redelivers it, the inbox knows it
            log.info("could not acknowledge %s (%r); it will be redelivered", message.message_id, exc)

    # --- subscription ---------------------------------------------------------------------------------

    def subscribe(self, broker: RabbitBroker, topology: Topology, prefetch: int) -> None:
        """Consume the service's queue. The handler takes the raw body (the envelope is parsed here, once) and
        the delivery from FastStream's context: a `RabbitMessage` parameter is resolved by the dependency
        injector in a worker thread, and the default decoder parses the JSON body a first time; both were a
        measurable share of a consumer's CPU (py-spy, reporting under load)."""
        queue = topology.rabbit_queue(self.service, declare=False)  # declared by the publisher, with its bindings
        self._delivery_limit = topology.delivery_limit
        self._replay_exchange = topology.replay_exchange
        context = broker.context

        async def consume(body: bytes) -> None:
            message: RabbitMessage = context.get_local("message")
            if self._batch_size > 1:
                await self.enqueue(message)
            else:
                await self.on_message(message)

        broker.subscriber(
            queue,
            channel=Channel(prefetch_count=prefetch),
            ack_policy=AckPolicy.MANUAL,
            decoder=_raw_body,
            title=f"{self.service} events",
        )(consume)


def _routing_key(message: RabbitMessage, replay_exchange: str = "") -> str | None:
    """The routing key the event was published with on the events exchange; None for the default exchange,
    where only an operator may publish (`scripts.dead_letters`), and for the replay exchange, where only this
    service (an operator's replay through `shared.deadletters`) may publish to this queue."""
    raw = message.raw_message
    exchange = getattr(raw, "exchange", "")
    if not exchange or exchange == replay_exchange:
        return None
    key = getattr(raw, "routing_key", None)
    return key if isinstance(key, str) else None


async def _raw_body(message: StreamMessage[Any]) -> bytes:
    """FastStream decoder that leaves the body as bytes."""
    return message.body
