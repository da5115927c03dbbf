"""Reporting counts cases by unit, month, category and status from the events it consumes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import aio_pika

from devtools.waiting import eventually
from services.reporting import store
from services.reporting.main import create_app
from services.reporting.settings import ReportingSettings
from shared.events import Envelope
from shared.events.intake import CaseReported
from shared.topology import Topology
from tests.support.asgi import running
from tests.support.credentials import grant
from tests.support.metrics import sample


async def publish(amqp_url: str, namespace: str, envelopes: list[Envelope]) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(Topology(namespace).events_exchange)
        for envelope in envelopes:
            await exchange.publish(
                aio_pika.Message(envelope.model_dump_json().encode(), type=envelope.type), routing_key=envelope.type
            )


def reported(unit: str, category: str, when: datetime) -> Envelope:
    event = CaseReported(
        case_id=uuid.uuid4(),
        code="TN-2026-000001",
        unit=unit,
        category=category,
        urgency="medium",
        protection_level="support",
        reported_at=when,
    )
    return Envelope.wrap(event, producer="intake")


async def test_monthly_report_counts_each_case_once_in_its_vietnamese_month(base_env, monkeypatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    app = create_app(ReportingSettings())
    async with running(app) as client:
        headers = await grant(app.state.runtime.sessions, store.credentials, "committee")

        async def consumed(outcome: str) -> float:
            text = (await client.get("/metrics")).text
            return sample(
                text, "caunoi_events_consumed_total", service="reporting", type="case.reported", outcome=outcome
            )

        before = {outcome: await consumed(outcome) for outcome in ("processed", "duplicate")}
        first = reported("phuong-tan-ninh", "neglect", datetime(2026, 10, 31, 18, 0, tzinfo=UTC))  # 1 Nov in VN
        await publish(
            base_env["RABBITMQ_URL"],
            base_env["BROKER_NAMESPACE"],
            [
                first,
                first,
                reported("phuong-tan-ninh", "neglect", datetime(2026, 11, 5, tzinfo=UTC)),
                reported("xa-tan-thanh", "child_marriage", datetime(2026, 11, 6, tzinfo=UTC)),
                reported("xa-tan-thanh", "child_marriage", datetime(2026, 10, 6, tzinfo=UTC)),
            ],
        )

        async def november() -> dict:
            body = (await client.get("/v1/reports/monthly", params={"period": "2026-11"}, headers=headers)).json()
            return body if body["total"] == 3 else {}

        body = await eventually(november)
        assert {(r["unit"], r["category"], r["cases"]) for r in body["rows"]} == {
            ("phuong-tan-ninh", "neglect", 2),
            ("xa-tan-thanh", "child_marriage", 1),
        }
        assert (await client.get("/v1/reports/monthly", params={"period": "2026-11"})).status_code == 401
        assert (
            await client.get("/v1/reports/monthly", params={"period": "11/2026"}, headers=headers)
        ).status_code == 422
        assert (await client.get("/readyz")).status_code == 200

        async def counted() -> bool:  # four events handled, the redelivered one recognised
            return (await consumed("processed"), await consumed("duplicate")) == (
                before["processed"] + 4,
                before["duplicate"] + 1,
            )

        await eventually(counted)
