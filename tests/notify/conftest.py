"""Fixtures of notify's tests: a real SMTP sink, the Zalo stub, notify's settings pointing at both, and
helpers to publish events and read the delivery table."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from devtools.infra import REPO
from devtools.mailsink import SmtpSink
from devtools.zalo_stub import ZaloStub
from services.notify import store
from services.notify.settings import NotifySettings
from shared.events import Envelope, Event, Recipient
from shared.events.routing import AssignmentInfo, CaseAssigned
from shared.topology import Topology
from tests.support.sealed import seal


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def zalo() -> Iterator[ZaloStub]:
    with ZaloStub() as stub:
        yield stub


def notify_env(base_env: dict[str, str], smtp: SmtpSink, zalo: ZaloStub, **overrides: str) -> dict[str, str]:
    """Every variable notify reads, pointing at this test's database, broker, SMTP sink and Zalo stub."""
    env = {
        **base_env,
        "SMTP_HOST": smtp.host,
        "SMTP_PORT": str(smtp.port),
        "SMTP_TLS": smtp.tls,
        "SMTP_CA_FILE": smtp.ca_file or "",
        "MAIL_FROM": "Câu lạc bộ tư vấn, trợ giúp trẻ em <clb@tinhdoan-tayninh.vn>",
        "ZALO_API_BASE": zalo.api_base,
        "ZALO_OAUTH_BASE": zalo.oauth_base,
        "ZALO_APP_ID": zalo.app_id,
        "ZALO_APP_SECRET": zalo.app_secret,
        "ZALO_ACCESS_TOKEN": zalo.access_token,
        "ZALO_REFRESH_TOKEN": zalo.refresh_token,
        "PUBLIC_BASE_URL": "https://caunoi.tinhdoan-tayninh.vn",
        "NOTIFY_BACKOFF_BASE_SECONDS": "0.05",
        "NOTIFY_BACKOFF_MAX_SECONDS": "0.2",
        "ZALO_RATE_LIMIT_DELAY_SECONDS": "0.1",
        "NOTIFY_MAX_ATTEMPTS": "3",
        "NOTIFY_DISPATCH_INTERVAL": "0.05",
        "NOTIFY_SEND_LEASE_SECONDS": "30",
    }
    env.update(overrides)
    return env


def settings_from(env: dict[str, str]) -> NotifySettings:
    return NotifySettings(**{key.lower(): value for key, value in env.items()})


async def publish(env: dict[str, str], *events: Event | Envelope) -> list[Envelope]:
    """Publish events (or exact envelopes, to redeliver one) on the test's exchange, with confirms."""
    envelopes = [e if isinstance(e, Envelope) else Envelope.wrap(e, producer=e.PRODUCER) for e in events]
    connection = await aio_pika.connect(env["RABBITMQ_URL"])
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(Topology(env["BROKER_NAMESPACE"]).events_exchange)
        for envelope in envelopes:
            await exchange.publish(
                aio_pika.Message(envelope.model_dump_json().encode(), type=envelope.type, delivery_mode=2),
                routing_key=envelope.type,
            )
    return envelopes


async def deliveries(sessions: async_sessionmaker[AsyncSession], **where: Any) -> list[Any]:
    d = store.deliveries.c
    query = select(store.deliveries).order_by(d.created_at, d.channel)
    for key, value in where.items():
        query = query.where(getattr(d, key) == value)
    async with sessions() as session:
        return list((await session.execute(query)).all())


async def outbox_events(sessions: async_sessionmaker[AsyncSession], event_type: str) -> list[Envelope]:
    async with sessions() as session:
        rows = await session.execute(select(store.outbox.c.envelope).where(store.outbox.c.type == event_type))
        return [Envelope.model_validate_json(r.envelope) for r in rows]


def member(name: str, *, email: str | None = None, zalo: str | None = None, **kw: Any) -> Recipient:
    return Recipient(member_id=uuid.uuid4(), display_name=name, email=email, zalo_user_id=zalo, **kw)


def case_assigned(
    *members: Recipient,
    urgency: str = "high",
    category: str = "violence_physical",
    unit: str = "phuong-tan-ninh",
    code: str = "TN-2026-000123",
) -> CaseAssigned:
    case_id = uuid.uuid4()
    now = datetime.now(UTC)
    return CaseAssigned(
        case_id=case_id,
        code=code,
        unit=unit,
        category=category,
        urgency=urgency,
        protection_level="support",
        assignments=tuple(
            AssignmentInfo(
                assignment_id=(aid := uuid.uuid4()),
                field="psychology",
                member=m,
                respond_by=now + timedelta(hours=4),
                links=seal(
                    "notify",
                    {
                        "accept": f"https://caunoi.tinhdoan-tayninh.vn/assignments/{aid}/accept",
                        "decline": f"https://caunoi.tinhdoan-tayninh.vn/assignments/{aid}/decline",
                    },
                    f"assignment:{aid}:links",
                ),
            )
            for m in members
        ),
        assigned_at=now,
    )


def holds(condition: Any) -> Any:
    """Wrap a synchronous condition for `eventually`, which awaits its probe."""

    async def probe() -> Any:
        return condition()

    return probe


def start_notify(env: dict[str, str], port: int, log: Any = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """Notify as its own process (`python -m services.notify serve`), for tests that kill or stop it."""
    return subprocess.Popen(
        [sys.executable, "-m", "services.notify", "serve", "--no-migrate", "--port", str(port)],
        cwd=REPO,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        stdout=log,
        stderr=subprocess.STDOUT if log is not subprocess.DEVNULL else subprocess.DEVNULL,
    )


async def ready(port: int) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"http://127.0.0.1:{port}/readyz", timeout=1)).status_code == 200
    except httpx.HTTPError:
        return False
