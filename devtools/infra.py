"""The one database and vhost helper: isolated PostgreSQL databases and RabbitMQ vhosts for tests and
benchmarks, against the real servers, and the services' migrations applied to them.

Tests make one template database per session and copy it per test (`create_database(name, template=...)`);
a benchmark takes a `scratch(name)` database and vhost, dropped on exit unless BENCH_KEEP is set.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_DSN = (
    os.environ.get("TEST_PG_ADMIN_DSN")
    or os.environ.get("BENCH_PG_ADMIN_DSN")
    or "postgresql://postgres@127.0.0.1:5432/postgres"
)
AMQP_BASE = os.environ.get("TEST_AMQP_BASE") or os.environ.get("BENCH_AMQP_BASE") or "amqp://guest:guest@127.0.0.1:5672"
SERVICES = ("intake", "routing", "notify", "reporting", "web")  # every service with migrations


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
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


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


# --- benchmarks: a scratch database and vhost per run ----------------------------------------------


@dataclass(frozen=True)
class Scratch:
    """One benchmark's isolated database and vhost."""

    database: str
    vhost: str

    @property
    def pg_dsn(self) -> str:
        """Plain asyncpg DSN."""
        return f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{self.database}"

    @property
    def database_url(self) -> str:
        """SQLAlchemy URL, as services read it from DATABASE_URL."""
        return self.pg_dsn.replace("postgresql://", "postgresql+asyncpg://", 1)

    @property
    def amqp_url(self) -> str:
        return f"{AMQP_BASE}/{self.vhost}"


@asynccontextmanager
async def scratch(name: str, *, vhost: bool = True) -> AsyncIterator[Scratch]:
    """Create `bench_<name>_<id>` database (and vhost); drop both on exit unless BENCH_KEEP is set."""
    res = Scratch(database=unique(f"bench_{name}"), vhost=unique(f"bench-{name}") if vhost else "")
    await _admin(f'CREATE DATABASE "{res.database}"')
    if vhost:
        await asyncio.to_thread(rabbitmqctl, "add_vhost", res.vhost)
        await asyncio.to_thread(rabbitmqctl, "set_permissions", "-p", res.vhost, "guest", ".*", ".*", ".*")
    try:
        yield res
    finally:
        if not os.environ.get("BENCH_KEEP"):
            await _admin(f'DROP DATABASE IF EXISTS "{res.database}" WITH (FORCE)')
            if vhost:
                await asyncio.to_thread(rabbitmqctl, "delete_vhost", res.vhost)


async def migrate(database_url: str, services: tuple[str, ...] = SERVICES) -> list[str]:
    """Apply the migrations of every service that has them; returns the services migrated."""
    from shared.migrations import upgrade

    done = []
    for service in services:
        location = REPO / "services" / service / "migrations"
        if (location / "env.py").exists():
            await asyncio.to_thread(upgrade, location, database_url)
            done.append(service)
    return done
