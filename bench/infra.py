"""Scratch resources for one benchmark: a PostgreSQL database and a RabbitMQ vhost, created and dropped.

Each benchmark runs in its own database and vhost so it never sees another run's (or a test's) data, and
leaves nothing behind even when it fails.
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
PG_ADMIN_DSN = os.environ.get("BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_BASE = os.environ.get("BENCH_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")
SERVICES = ("intake", "routing", "notify", "reporting")


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


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


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


@asynccontextmanager
async def scratch(name: str, *, vhost: bool = True) -> AsyncIterator[Scratch]:
    """Create `bench_<name>_<id>` database (and vhost); drop both on exit unless BENCH_KEEP is set."""
    res = Scratch(database=unique(f"bench_{name}"), vhost=unique(f"bench-{name}") if vhost else "")
    await _admin(f'CREATE DATABASE "{res.database}"')
    if vhost:
        await asyncio.to_thread(_rabbitmqctl, "add_vhost", res.vhost)
        await asyncio.to_thread(_rabbitmqctl, "set_permissions", "-p", res.vhost, "guest", ".*", ".*", ".*")
    try:
        yield res
    finally:
        if not os.environ.get("BENCH_KEEP"):
            await _admin(f'DROP DATABASE IF EXISTS "{res.database}" WITH (FORCE)')
            if vhost:
                await asyncio.to_thread(_rabbitmqctl, "delete_vhost", res.vhost)


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
