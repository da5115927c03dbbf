"""Relay throughput: events/s `shared.relay.OutboxRelay` moves from PostgreSQL to RabbitMQ with confirms.

Ours: N `case.reported` rows pre-filled (COPY) in a scratch schema's outbox, then `relay.drain()` until
every row is marked published. Reference: raw aio-pika publishing the same message bodies, with the same
pipelining window (the relay's batch size) and publisher confirms, to the same topology (a topic exchange
and two quorum queues, routing's and reporting's). Rounds alternate (raw, ours, raw, ours) so noise from
the shared machine hits both sides; the best round of each is reported.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import aio_pika
import asyncpg
from sqlalchemy import text

from bench.options import Options
from bench.profile import PROFILES
from bench.results import Figure
from devtools.infra import Scratch, scratch, unique
from shared.db import make_engine, service_metadata
from shared.events import Envelope
from shared.events.intake import CaseReported
from shared.outbox import outbox_table, outbox_trigger_sql
from shared.publisher import EventPublisher, Outgoing, to_outgoing
from shared.relay import OutboxRelay
from shared.topology import Topology

BATCH = 200


def envelopes(n: int) -> list[Envelope]:
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        event = CaseReported(
            case_id=uuid.uuid4(),
            code=f"TN-2026-{i:06d}",
            unit="xa-tan-thanh",
            category="neglect",
            urgency="high",
            protection_level="support",
            age_band="11-15",
            reported_at=now,
        )
        out.append(Envelope.wrap(event, producer="intake"))
    return out


async def _drop_topology(url: str, topology: Topology) -> None:
    """Delete the round's queues and exchanges so the next round starts from an empty broker."""
    conn = await aio_pika.connect(url)
    try:
        channel = await conn.channel()
        for service in ("intake", "routing", "notify", "reporting"):
            for name in (topology.queue(service), topology.dead_letter_queue(service)):
                await channel.queue_delete(name)
        await channel.exchange_delete(topology.events_exchange)
        await channel.exchange_delete(topology.dead_letter_exchange)
    finally:
        await conn.close()


async def _queue_depth(url: str, topology: Topology, service: str) -> int:
    conn = await aio_pika.connect(url)
    try:
        channel = await conn.channel()
        queue = await channel.declare_queue(topology.queue(service), passive=True)
        return queue.declaration_result.message_count or 0
    finally:
        await conn.close()


def aio_pika_message(event: Outgoing) -> aio_pika.Message:
    """The reference's message: the relay's properties as aio-pika's own `Message` (checked equal, so both sides
    publish the same messages)."""
    p = event.properties
    message = aio_pika.Message(
        body=event.body,
        content_type=p.content_type,
        content_encoding=p.content_encoding,
        delivery_mode=p.delivery_mode,
        priority=p.priority,
        message_id=p.message_id,
        correlation_id=p.correlation_id,
        type=p.message_type,
        timestamp=p.timestamp,
        app_id=p.app_id,
        headers=p.headers,
    )
    if message.properties != p:
        raise RuntimeError(f"the reference's message differs from the relay's: {message.properties} != {p}")
    return message


async def raw_round(res: Scratch, envs: list[Envelope]) -> float:
    """Seconds to publish every envelope with pipelined confirms, windows of BATCH, plain aio-pika."""
    topology = Topology(unique("raw"))
    conn = await aio_pika.connect(res.amqp_url)
    try:
        channel = await conn.channel(publisher_confirms=True)
        await topology.declare(channel)
        exchange = await channel.get_exchange(topology.events_exchange)
        bodies = [(env.type, aio_pika_message(to_outgoing(env))) for env in envs]
        started = time.perf_counter()
        for i in range(0, len(bodies), BATCH):
            await asyncio.gather(
                *(exchange.publish(msg, routing_key=key, mandatory=True) for key, msg in bodies[i : i + BATCH])
            )
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    depth = await _queue_depth(res.amqp_url, topology, "reporting")
    await _drop_topology(res.amqp_url, topology)
    if depth != len(envs):
        raise RuntimeError(f"raw publishing: reporting queue holds {depth}, expected {len(envs)}")
    return elapsed


async def ours_round(res: Scratch, envs: list[Envelope], profile_to: str | None = None) -> float:
    """Seconds for OutboxRelay.drain() to publish and mark N pre-filled rows (profiled with pyinstrument,
    text report written to bench/results/profiles/<profile_to>.txt, when `profile_to` is given)."""
    schema = unique("relay")
    metadata = service_metadata(schema)
    table = outbox_table(metadata)
    engine = make_engine(res.database_url)
    topology = Topology(unique("ours"))
    publisher = EventPublisher(res.amqp_url, topology)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            await conn.run_sync(metadata.create_all)
            for statement in outbox_trigger_sql(schema):
                await conn.execute(text(statement))
        pg = await asyncpg.connect(res.pg_dsn)
        try:
            await pg.copy_records_to_table(
                "outbox",
                schema_name=schema,
                columns=["event_id", "type", "key", "envelope"],
                records=[(e.event_id, e.type, str(e.payload["case_id"]), e.model_dump_json()) for e in envs],
            )
            await pg.execute(f'VACUUM ANALYZE "{schema}".outbox')
        finally:
            await pg.close()
        await publisher.connect()
        relay = OutboxRelay(
            service="bench",
            engine=engine,
            database_url=res.database_url,
            table=table,
            publisher=publisher,
            batch_size=BATCH,
        )
        profiler = None
        if profile_to:
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="enabled")
            profiler.start()
        started = time.perf_counter()
        published = await relay.drain()
        elapsed = time.perf_counter() - started
        if profiler is not None:
            profiler.stop()
            PROFILES.mkdir(parents=True, exist_ok=True)
            (PROFILES / f"{profile_to}.txt").write_text(profiler.output_text(unicode=True), encoding="utf-8")
        if published != len(envs):
            raise RuntimeError(f"relay published {published} of {len(envs)}")
        await publisher.close()
        depth = await _queue_depth(res.amqp_url, topology, "reporting")
        if depth != len(envs):
            raise RuntimeError(f"relay: reporting queue holds {depth}, expected {len(envs)}")
        return elapsed
    finally:
        await publisher.close()
        await _drop_topology(res.amqp_url, topology)
        await engine.dispose()


async def run(opts: Options) -> list[Figure]:
    n = 2_000 if opts.quick else 10_000
    rounds = 1 if opts.quick else 3  # best of 3: one slow round on a shared machine no longer decides the ratio
    envs = envelopes(n)
    raw_times: list[float] = []
    our_times: list[float] = []
    async with scratch("relay") as res:
        for _ in range(rounds):
            raw_times.append(await raw_round(res, envs))
            our_times.append(await ours_round(res, envs))
        await ours_round(res, envs[:2000], profile_to="relay")  # untimed: where the relay's time goes
    return [
        Figure(
            benchmark="relay",
            name="relay throughput",
            unit="events/s",
            ours=n / min(our_times),
            reference=n / min(raw_times),
            reference_name=f"raw aio-pika, confirms pipelined {BATCH} at a time",
            note=f"{n:,} events, best of {rounds}; target ratio ≥ 0.8",
        )
    ]
