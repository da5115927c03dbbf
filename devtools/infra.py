"""Isolated PostgreSQL databases and RabbitMQ vhosts for tests, against the real servers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from pathlib import Path

import asyncpg

REPO = Path(__file__).resolve().parents[2]
PG_ADMIN_DSN = os.environ.get("TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_BASE = os.environ.get("TEST_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")
SERVICES = ("intake", "routing", "notify", "reporting")


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def sqlalchemy_url(database: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database(name: str, template: str | None = None) -> None:
    suffix = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(_admin(f'CREATE DATABASE "{name}"{suffix}'))


def drop_database(name: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def migrate_all(database_url: str, services: tuple[str, ...] = SERVICES) -> None:
    """Run each service's Alembic migrations (those that exist) against one database."""
    from shared.migrations import upgrade

    for service in services:
        location = REPO / "services" / service / "migrations"
        if (location / "env.py").exists():
            upgrade(location, database_url)


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def create_vhost(name: str) -> str:
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    return f"{AMQP_BASE}/{name}"


def delete_vhost(name: str) -> None:
    rabbitmqctl("delete_vhost", name)


async def _delete_namespace(amqp_url: str, namespace: str) -> None:
    import aio_pika

    from shared.events.base import SERVICES as ALL
    from shared.topology import Topology

    topology = Topology(namespace)
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for service in ALL:
            for queue in (topology.queue(service), topology.dead_letter_queue(service)):
                await channel.queue_delete(queue)
        for exchange in (topology.events_exchange, topology.dead_letter_exchange):
            await channel.exchange_delete(exchange)


def delete_namespace(amqp_url: str, namespace: str) -> None:
    """Drop a test's queues and exchanges: quorum queues are costly, and a run must not pile them up."""
    asyncio.run(_delete_namespace(amqp_url, namespace))
