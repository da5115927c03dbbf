"""An event about a case that arrives before the case itself (`case.assigned` before `case.reported`) is
projected exactly once: by the case's catch-up, whether both come in one batch or one transaction each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from devtools.waiting import eventually
from services.reporting import store
from services.reporting.main import create_app
from services.reporting.settings import ReportingSettings
from shared.events import Envelope
from shared.events.common import Recipient
from shared.events.intake import CaseReported
from shared.events.notify import NotificationSent, SentDelivery
from shared.events.routing import AssignmentInfo, CaseAssigned
from tests.reporting.test_monthly_counts import publish
from tests.support.asgi import running

REPORTED_AT = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


def _case(code: str) -> tuple[Envelope, Envelope, Envelope]:
    case_id = uuid.uuid4()
    common = dict(case_id=case_id, code=code, unit="xa-tan-thanh", category="neglect", urgency="high")
    reported = CaseReported(**common, protection_level="support", reported_at=REPORTED_AT)
    member = Recipient(member_id=uuid.uuid4(), display_name="Thành viên", email="tv@example.org")
    assigned = CaseAssigned(
        **common,
        protection_level="support",
        assignments=(
            AssignmentInfo(
                assignment_id=uuid.uuid4(), field="law", member=member, respond_by=REPORTED_AT + timedelta(hours=4)
            ),
        ),
        assigned_at=REPORTED_AT + timedelta(minutes=5),
    )
    sent = NotificationSent(
        source_event_id=uuid.uuid4(),
        case_id=case_id,
        deliveries=(
            SentDelivery(
                notification_id=uuid.uuid4(),
                template="case_assigned",
                channel="email",
                attempts=1,
                sent_at=REPORTED_AT + timedelta(minutes=6),
            ),
        ),
    )
    wrap = Envelope.wrap
    return wrap(assigned, producer="routing"), wrap(sent, producer="notify"), wrap(reported, producer="intake")


@pytest.mark.parametrize("batch_size", ["1", "50"])
async def test_events_before_their_case_are_projected_once(base_env, monkeypatch, batch_size):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CONSUMER_BATCH_SIZE", batch_size)
    app = create_app(ReportingSettings())
    codes = [f"TN-2026-{i:06d}" for i in range(1, 21)]
    envelopes = [e for code in codes for e in _case(code)]  # each case: assigned, sent, then reported
    async with running(app):
        await publish(base_env["RABBITMQ_URL"], base_env["BROKER_NAMESPACE"], envelopes + envelopes[:6])
        sessions = app.state.runtime.sessions

        async def settled() -> tuple[int, int, int] | None:
            async with sessions() as session:
                stored = await session.scalar(select(func.count()).select_from(store.events))
                assigned = await session.scalar(
                    select(func.count()).select_from(store.cases).where(store.cases.c.status == "assigned")
                )
                counted = await session.scalar(
                    select(func.coalesce(func.sum(store.case_counts.c.cases), 0)).where(
                        store.case_counts.c.status == "assigned"
                    )
                )
            return (stored, assigned, counted) if stored == len(envelopes) and assigned == len(codes) else None

        stored, assigned, counted = await eventually(settled, timeout=30)
        async with sessions() as session:
            notifications = await session.scalar(
                select(func.sum(store.activity_counts.c.n)).where(store.activity_counts.c.key == "email:sent")
            )
    assert (stored, assigned, counted) == (60, 20, 20)
    assert notifications == 20  # the six events published twice were recognised
