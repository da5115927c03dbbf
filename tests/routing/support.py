"""Helpers for routing's integration tests: a seeded routing app on a FakeClock, events in, events out."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import aio_pika
import httpx
from fastapi import FastAPI
from sqlalchemy import select

from services.routing import store
from services.routing.main import create_app
from services.routing.seed import seed
from services.routing.settings import RoutingSettings
from shared.clock import FakeClock
from shared.events import Envelope
from shared.events.intake import CaseReported
from shared.topology import Topology
from tests.support.asgi import running
from tests.support.credentials import grant

# Tuesday 1 December 2026, 09:00 in Vietnam.
START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def routing_settings(base_env: dict[str, str], **overrides: object) -> RoutingSettings:
    values = {key.lower(): value for key, value in base_env.items()}
    values.update(timer_poll_interval=0.05, public_base_url="https://caunoi.example", **overrides)
    return RoutingSettings(**values)


@asynccontextmanager
async def routing_app(settings: RoutingSettings, clock: FakeClock) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings, clock=clock)
    async with running(app) as client:
        yield app, client


async def seeded(settings: RoutingSettings) -> None:
    await seed(settings)


async def publish(settings: RoutingSettings, *envelopes: Envelope) -> None:
    connection = await aio_pika.connect(settings.rabbitmq_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(Topology(settings.broker_namespace).events_exchange)
        for envelope in envelopes:
            await exchange.publish(
                aio_pika.Message(
                    envelope.model_dump_json().encode(), type=envelope.type, message_id=str(envelope.event_id)
                ),
                routing_key=envelope.type,
            )


def case_reported(
    category: str = "child_marriage",
    unit: str = "phuong-go-dau",
    urgency: str = "high",
    level: str = "support",
    learned_at: datetime | None = None,
) -> Envelope:
    event = CaseReported(
        case_id=uuid.uuid4(),
        code="TN-2026-000042",
        unit=unit,
        category=category,
        urgency=urgency,
        protection_level=level,
        reported_at=START,
        learned_at=learned_at,
    )
    return Envelope.wrap(event, producer="intake")


async def emitted(app: FastAPI, event_type: str) -> list[dict]:
    """Payloads routing put in its outbox, in order (what the relay publishes)."""
    async with app.state.runtime.sessions() as session:
        rows = await session.execute(
            select(store.outbox.c.envelope).where(store.outbox.c.type == event_type).order_by(store.outbox.c.id)
        )
        return [json.loads(row.envelope)["payload"] for row in rows]


async def member_id(app: FastAPI, key: str) -> uuid.UUID:
    async with app.state.runtime.sessions() as session:
        return (await session.execute(select(store.members.c.member_id).where(store.members.c.key == key))).scalar_one()


async def as_member(app: FastAPI, key: str) -> dict[str, str]:
    return await grant(app.state.runtime.sessions, store.credentials, "member", member_id=await member_id(app, key))


async def as_assignee(app: FastAPI, assignment: dict) -> dict[str, str]:
    """A member credential for whoever holds `assignment` (an AssignmentInfo payload)."""
    holder = uuid.UUID(assignment["member"]["member_id"])
    return await grant(app.state.runtime.sessions, store.credentials, "member", member_id=holder)


async def as_role(app: FastAPI, role: str) -> dict[str, str]:
    return await grant(app.state.runtime.sessions, store.credentials, role)


def by_field(assigned: dict) -> dict[str | None, dict]:
    return {a["field"]: a for a in assigned["assignments"]}
