"""What the end-to-end tests read from outside the services: Prometheus counters and queue depths."""

from __future__ import annotations

import asyncio
import subprocess
from urllib.parse import unquote, urlsplit

import httpx
from prometheus_client.parser import text_string_to_metric_families


async def counter(client: httpx.AsyncClient, base_url: str, name: str, **labels: str) -> float:
    """Sum of a counter's samples whose labels include `labels` (0 when absent)."""
    text = (await client.get(f"{base_url}/metrics")).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            named = sample.name in (name, f"{name}_total")
            if named and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def _queue_depths(amqp_url: str, namespace: str) -> dict[str, int]:
    vhost = unquote(urlsplit(amqp_url).path.lstrip("/")) or "/"
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages", "--no-table-headers"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    depths = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith(f"{namespace}."):
            depths[parts[0]] = int(parts[1])
    return depths


async def queue_depths(amqp_url: str, namespace: str) -> dict[str, int]:
    """Messages (ready and unacknowledged) in each of the namespace's queues."""
    return await asyncio.to_thread(_queue_depths, amqp_url, namespace)


async def settled(amqp_url: str, namespace: str) -> bool:
    """True when no service queue holds a message (ready or unacknowledged): nothing is in flight."""
    depths = await queue_depths(amqp_url, namespace)
    return not any(n for q, n in depths.items() if not q.endswith(".dead-letter"))


async def dead_letters(amqp_url: str, namespace: str) -> dict[str, int]:
    depths = await queue_depths(amqp_url, namespace)
    return {q: n for q, n in depths.items() if q.endswith(".dead-letter") and n}
