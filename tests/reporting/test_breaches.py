"""A breach is a deadline that passed; the chair being told at once that nobody can take a request is not."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from devtools.waiting import eventually
from services.reporting import store
from services.reporting.main import create_app
from services.reporting.settings import ReportingSettings
from shared.events import Envelope, Recipient
from shared.events.routing import CaseEscalated
from tests.reporting.test_monthly_counts import publish
from tests.support.asgi import running
from tests.support.credentials import grant

CHAIR = Recipient(display_name="Chủ nhiệm", email="chair@club.example")


def escalated(reason: str, level: str, due_at: datetime) -> Envelope:
    event = CaseEscalated(
        request_id=uuid.uuid4(),
        code="TV-2026-000001",
        deadline="acceptance",
        due_at=due_at,
        urgency="medium",
        level=level,
        recipients=(CHAIR,),
        escalated_at=due_at,
        reason=reason,
    )
    return Envelope.wrap(event, producer="routing")


def processed_escalations(metrics: str) -> float:
    for line in metrics.splitlines():
        if (
            line.startswith("caunoi_events_consumed_total{")
            and 'service="reporting"' in line
            and ('type="case.escalated"' in line and 'outcome="processed"' in line)
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_only_deadlines_that_passed_count_as_breaches(base_env, monkeypatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    app = create_app(ReportingSettings())
    async with running(app) as client:
        headers = await grant(app.state.runtime.sessions, store.credentials, "committee")
        before = processed_escalations((await client.get("/metrics")).text)
        due = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
        await publish(
            base_env["RABBITMQ_URL"],
            base_env["BROKER_NAMESPACE"],
            [escalated("nobody_available", "chair", due), escalated("deadline_passed", "chair", due)],
        )

        async def both_handled() -> bool:
            return processed_escalations((await client.get("/metrics")).text) >= before + 2

        await eventually(both_handled)
        response = await client.get("/v1/reports/breaches", params={"period": "2026-11"}, headers=headers)
        assert response.status_code == 200, response.text
        assert [(row["deadline"], row["breaches"]) for row in response.json()] == [("acceptance", 1)]
