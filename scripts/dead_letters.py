"""Inspect and replay a service's dead-letter queue (`<ns>.<service>.dead-letter`).

    python -m scripts.dead_letters show notify            # type, event_id, deliveries, reason of each
    python -m scripts.dead_letters replay notify [--limit N]

`replay` takes each message off the dead-letter queue and publishes it again, unchanged (same
`event_id`), to the service's own queue only, through the default exchange, with publisher confirms; it
acks the dead letter only after the broker confirmed the copy. Consumers are idempotent, so replaying an
event that was in fact processed changes nothing. Uses RABBITMQ_URL and BROKER_NAMESPACE.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os

import aio_pika

from shared.topology import Topology


async def show(url: str, topology: Topology, service: str) -> int:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(topology.dead_letter_queue(service), ensure=True)
        seen = []
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            seen.append(message)
            death = (message.headers or {}).get("x-death") or [{}]
            first = death[0] if isinstance(death, list) and death else {}
            try:
                event_id = json.loads(message.body).get("event_id")
            except ValueError:
                event_id = "(not JSON)"
            print(f"{message.type or '?':<28} {event_id}  reason={first.get('reason')} count={first.get('count')}")
        for message in seen:  # leave them where they were
            await message.nack(requeue=True)
        print(f"{len(seen)} message(s) in {topology.dead_letter_queue(service)}")
        return len(seen)


async def replay(url: str, topology: Topology, service: str, limit: int | None) -> int:
    connection = await aio_pika.connect(url)
    moved = 0
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.get_queue(topology.dead_letter_queue(service), ensure=True)
        while limit is None or moved < limit:
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")}
            copy = aio_pika.Message(
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
            await channel.default_exchange.publish(copy, routing_key=topology.queue(service), mandatory=True)
            await message.ack()
            moved += 1
    print(f"replayed {moved} message(s) to {topology.queue(service)}")
    return moved


def main() -> None:
    parser = argparse.ArgumentParser(description="Inspect and replay dead-lettered events.")
    parser.add_argument("action", choices=("show", "replay"))
    parser.add_argument("service", choices=("intake", "routing", "notify", "reporting"))
    parser.add_argument("--limit", type=int, default=None, help="replay at most this many")
    args = parser.parse_args()
    url = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    topology = Topology(os.environ.get("BROKER_NAMESPACE", "caunoi"))
    if args.action == "show":
        asyncio.run(show(url, topology, args.service))
    else:
        asyncio.run(replay(url, topology, args.service, args.limit))


if __name__ == "__main__":
    main()
