"""One intake for the whole package (creating and dropping a database per test costs seconds): running
in-process on its own copy of the template database and its own broker namespace, with reference data
loaded, a fake clock reset before each test, Zalo webhook keys, and a token per role.

Tests share that database, so each looks only at the rows it created.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aio_pika
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import text

from devtools import infra
from devtools.waiting import eventually
from services.intake import reference, store
from services.intake.main import create_app
from services.intake.settings import IntakeSettings
from shared.clock import FakeClock
from shared.events import Envelope, Event
from shared.outbox import Outbox
from shared.topology import Topology
from tests.support.credentials import grant

ZALO_APP_ID = "1234567890123456789"
ZALO_OA_SECRET = "oa-secret-for-tests"
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
# "member-on-case": a member (MEMBER_ID) that tests put on a case with `case.assigned`.
ROLES = ("reporter", "reporter-other", "member", "member-on-case", "chair", "committee", "operator", "admin")
MEMBER_ID = uuid.UUID("5a0e1c1e-0000-4000-8000-00000000a001")
MINIMAL_CASE = {"unit": "phuong-tan-ninh", "category": "neglect", "urgency": "high", "summary": "Trẻ bị bỏ mặc ở nhà."}


@dataclass
class Intake:
    app: FastAPI
    client: httpx.AsyncClient
    clock: FakeClock
    env: dict[str, str]
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # role → Authorization header

    @property
    def sessions(self):
        return self.app.state.runtime.sessions

    async def rows(self, sql: str, **params: object) -> list:
        async with self.sessions() as session:
            return list((await session.execute(text(sql), params)).mappings())

    async def events(self, event_type: str, containing: str) -> list[str]:
        """Raw envelopes of one type in intake's outbox that mention `containing` (an id, a code)."""
        rows = await self.rows(
            "SELECT envelope FROM intake.outbox WHERE type = :t AND strpos(envelope, :c) > 0 ORDER BY id",
            t=event_type,
            c=containing,
        )
        return [row["envelope"] for row in rows]

    async def deliver(self, event: Event, producer: str = "routing") -> None:
        """Publish an event to the broker as its producer would, and wait until intake has consumed it."""
        envelope = Envelope.wrap(event, producer=producer)
        connection = await aio_pika.connect(self.env["RABBITMQ_URL"])
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(Topology(self.env["BROKER_NAMESPACE"]).events_exchange)
            await exchange.publish(aio_pika.Message(envelope.model_dump_json().encode()), routing_key=event.TYPE)

        async def consumed() -> bool:
            return bool(await self.rows("SELECT 1 FROM intake.inbox WHERE event_id = :e", e=envelope.event_id))

        await eventually(consumed)

    @asynccontextmanager
    async def client_from(self, address: str) -> AsyncIterator[httpx.AsyncClient]:
        """A client whose requests come from another address (for per-address limits)."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def intake(template_database: str, amqp_vhost_url: str) -> AsyncIterator[Intake]:
    database = infra.unique("caunoi_intake")
    await asyncio.to_thread(infra.create_database, database, template_database)
    env = {
        "DATABASE_URL": infra.sqlalchemy_url(database),
        "RABBITMQ_URL": amqp_vhost_url,
        "BROKER_NAMESPACE": infra.unique("ti"),
        "OUTBOX_POLL_INTERVAL": "0.2",
        "LOG_FORMAT": "text",
        "ZALO_APP_ID": ZALO_APP_ID,
        "ZALO_OA_SECRET": ZALO_OA_SECRET,
        "COUNSELING_RATE_LIMIT": "3",
        "DEVELOPMENT_MODE": "true",  # the committed development keys
        # argon2id at its cheapest allowed cost: sign-in tests hash and verify many passwords on a busy machine.
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "8192",
    }
    clock = FakeClock(NOW)
    settings = IntakeSettings(**{key.lower(): value for key, value in env.items()})
    app = create_app(settings, clock=clock)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                sessions = app.state.runtime.sessions
                async with sessions() as session, session.begin():
                    await reference.seed(session, Outbox(store.outbox, "intake"))
                running = Intake(app, client, clock, env)
                running.headers["reporter"] = await grant(
                    sessions, store.credentials, "reporter", unit="phuong-tan-ninh"
                )
                running.headers["reporter-other"] = await grant(
                    sessions, store.credentials, "reporter", unit="xa-tan-bien"
                )
                for role in ROLES[2:]:
                    member_id = MEMBER_ID if role == "member-on-case" else None
                    running.headers[role] = await grant(
                        sessions, store.credentials, role.removesuffix("-on-case"), member_id=member_id
                    )
                yield running
    finally:
        if not os.environ.get("KEEP_TEST_RESOURCES"):
            await asyncio.to_thread(infra.drop_database, database)


@pytest.fixture(autouse=True)
def _reset_clock(request: pytest.FixtureRequest) -> None:
    if "intake" in request.fixturenames:
        request.getfixturevalue("intake").clock.set(NOW)
