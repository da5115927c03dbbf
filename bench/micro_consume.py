"""Micro-benchmark: a consumer's CPU per delivery in the AMQP layer, before any of our code runs.

Three ways to take the same messages off a queue, each acknowledging every message (the services acknowledge
a batch with one `multiple` ack, so their share is lower): FastStream's subscriber as the services configure it
(`EventConsumer.subscribe`: the body left as bytes, the delivery read from the context), with and without
FastStream's dependency injection (`apply_types`, off in `shared.service` since session 11), and aio-pika's
`queue.consume` as the floor. The variants run alternately, `--rounds` times, so a busy machine weighs on all.

CPU is this process's (`time.process_time`); the broker's share is not in it. `python -m bench.micro_consume
[--messages 20000] [--rounds 3]` prints each variant's median ms per message.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from typing import Any

import aio_pika
from faststream import AckPolicy
from faststream.message import StreamMessage
from faststream.rabbit import Channel, RabbitBroker, RabbitMessage, RabbitQueue

from devtools.infra import scratch

BODY = b'{"payload":"' + b"x" * 600 + b'"}'  # about an envelope's size


async def _fill(url: str, queue: str, count: int) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(queue, auto_delete=False)
        for _ in range(count):
            await channel.default_exchange.publish(
                aio_pika.Message(BODY, content_type="application/json"), routing_key=queue
            )


async def _raw_body(message: StreamMessage[Any]) -> bytes:
    return message.body


async def _faststream(url: str, queue: str, count: int, apply_types: bool) -> float:
    broker = RabbitBroker(url, logger=None, apply_types=apply_types)
    context = broker.context
    done = asyncio.Event()
    seen = 0

    async def consume(body: bytes) -> None:
        nonlocal seen
        message: RabbitMessage = context.get_local("message")
        await message.ack()
        seen += 1
        if seen == count:
            done.set()

    broker.subscriber(
        RabbitQueue(queue, declare=False),
        channel=Channel(prefetch_count=100),
        ack_policy=AckPolicy.MANUAL,
        decoder=_raw_body,
    )(consume)
    started = time.process_time()
    await broker.start()
    await done.wait()
    spent = time.process_time() - started
    await broker.stop()
    return spent


async def _aio_pika(url: str, queue: str, count: int) -> float:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=100)
        source = await channel.get_queue(queue)
        done = asyncio.Event()
        seen = 0

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal seen
            await message.ack()
            seen += 1
            if seen == count:
                done.set()

        started = time.process_time()
        await source.consume(on_message)
        await done.wait()
        return time.process_time() - started


async def run(messages: int, rounds: int) -> dict[str, float]:
    variants = {
        "FastStream, dependency injection on": lambda url, q: _faststream(url, q, messages, True),
        "FastStream, apply_types=False (the services)": lambda url, q: _faststream(url, q, messages, False),
        "aio-pika consume (floor)": lambda url, q: _aio_pika(url, q, messages),
    }
    spent: dict[str, list[float]] = {name: [] for name in variants}
    async with scratch("consume") as res:
        for _ in range(rounds):
            for name, consume in variants.items():
                queue = f"bench.consume.{uuid.uuid4().hex[:8]}"
                await _fill(res.amqp_url, queue, messages)
                spent[name].append(1000 * await consume(res.amqp_url, queue) / messages)
    return {name: statistics.median(values) for name, values in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for name, ms in asyncio.run(run(args.messages, args.rounds)).items():
        print(f"{name:46} {ms:.3f} ms CPU per message")


if __name__ == "__main__":
    main()
