"""Reporting counts every delivery a `notification.sent` lists, once, in the Vietnamese month it was sent:
version 2 (a batch of deliveries) and version 1 (one delivery, still in queues and the event store) alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from devtools.waiting import eventually
from services.reporting import store
from services.reporting.main import create_app
from services.reporting.settings import ReportingSettings
from shared.events import Envelope
from shared.events.notify import NotificationSent, NotificationSentV1, SentDelivery
from tests.reporting.test_monthly_counts import publish
from tests.support.asgi import running

NOVEMBER = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
DECEMBER = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)  # 00:30 on 1 December in Vietnam
JANUARY = datetime(2027, 1, 4, 2, 0, tzinfo=UTC)


def _delivery(channel: str, sent_at: datetime) -> SentDelivery:
    return SentDelivery(
        notification_id=uuid.uuid4(), template="case_assigned", channel=channel, member_id=uuid.uuid4(), attempts=1,
        sent_at=sent_at,
    )  # fmt: skip


def _batch(*deliveries: SentDelivery) -> Envelope:
    event = NotificationSent(source_event_id=uuid.uuid4(), case_id=uuid.uuid4(), deliveries=deliveries)
    return Envelope.wrap(event, producer="notify")


def _one(channel: str, sent_at: datetime) -> Envelope:
    event = NotificationSentV1(
        notification_id=uuid.uuid4(), source_event_id=uuid.uuid4(), template="case_assigned", channel=channel,
        case_id=uuid.uuid4(), attempts=1, sent_at=sent_at,
    )  # fmt: skip
    return Envelope.wrap(event, producer="notify")


async def test_each_listed_delivery_counts_once_whichever_version_carried_it(base_env, monkeypatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CONSUMER_BATCH_SIZE", "50")
    six = _batch(*(_delivery(channel, NOVEMBER) for channel in ("email", "zalo") for _ in range(3)))
    straddling = _batch(_delivery("email", NOVEMBER), _delivery("email", DECEMBER), _delivery("zalo", DECEMBER))
    old = [_one("email", NOVEMBER), _one("zalo", DECEMBER)]
    marker = _one("email", JANUARY)  # consumed after the redeliveries: once it is stored, they were handled
    envelopes = [*old, six, straddling, six, straddling, marker]  # six and straddling come twice
    app = create_app(ReportingSettings())
    async with running(app):
        await publish(base_env["RABBITMQ_URL"], base_env["BROKER_NAMESPACE"], envelopes)
        a = store.activity_counts.c

        async def counts() -> dict[tuple[str, str], int] | None:
            async with app.state.runtime.sessions() as session:
                stored = len((await session.execute(select(store.events.c.event_id))).all())
                rows = (await session.execute(select(a.period, a.key, a.n).where(a.metric == "notification"))).all()
            return {(r.period, r.key): r.n for r in rows} if stored == 5 else None

        assert await eventually(counts, timeout=30) == {
            ("2026-11", "email:sent"): 3 + 1 + 1,
            ("2026-11", "zalo:sent"): 3,
            ("2026-12", "email:sent"): 1,
            ("2026-12", "zalo:sent"): 1 + 1,
            ("2027-01", "email:sent"): 1,
        }
