"""The plan tracker says what is done, due or overdue and checks the meeting cadence; the scheduler reminds
units that have not reported and the chair of plan items coming due, exactly once each, through the outbox
and the broker."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import aio_pika
from sqlalchemy import select

from devtools.waiting import eventually
from services.reporting import scheduler, store
from services.reporting.main import create_app
from services.reporting.settings import ReportingSettings
from shared.clock import FakeClock
from shared.events import Envelope
from shared.events.intake import MonthlyReportSubmitted, UnitUpserted
from shared.topology import Topology
from tests.reporting.test_monthly_counts import publish
from tests.support.asgi import running
from tests.support.credentials import grant


def vn(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour - 7, tzinfo=UTC)


async def test_plan_items_are_done_due_or_overdue_and_the_meeting_cadence_is_checked(base_env, monkeypatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    app = create_app(ReportingSettings(), clock=FakeClock(vn(2025, 12, 20)))
    async with running(app) as client:
        chair = await grant(app.state.runtime.sessions, store.credentials, "chair")
        reporter = await grant(app.state.runtime.sessions, store.credentials, "reporter", unit="xa-tan-dong")

        async def record(**body: object) -> dict:
            response = await client.post("/v1/plan/activities", json=body, headers=chair)
            assert response.status_code == 201, response.text
            return response.json()

        thematic = await record(
            held_on="2025-11-10",
            kind="thematic_programme",
            participants=120,
            title_vi="Tập huấn cách bảo vệ trẻ em trên không gian mạng",
            minutes="Biên bản: 120 đoàn viên, học sinh tham dự.",
        )
        assert thematic["title_vi"] == "Tập huấn cách bảo vệ trẻ em trên không gian mạng"
        for day in ("2025-03-15", "2025-06-20", "2025-08-10"):
            await record(held_on=day, kind="board_meeting", participants=5, title_vi="Họp Ban Chủ nhiệm")
        await record(held_on="2025-05-02", kind="club_meeting", participants=15, title_vi="Sinh hoạt Câu lạc bộ")
        await record(
            held_on="2025-04-02",
            kind="other",
            participants=6,
            title_vi="Xây dựng chương trình năm 2025",
            plan_item_id="2025-action_programme",
        )

        bad = [
            dict(held_on="2025-05-02", kind="party", participants=1, title_vi="x"),
            dict(held_on="2025-05-02", kind="club_meeting", participants=-1, title_vi="x"),
            dict(held_on="2025-05-02", kind="club_meeting", participants=1, title_vi="x", plan_item_id="nope"),
            dict(held_on="2026-05-02", kind="club_meeting", participants=1, title_vi="x"),
            dict(held_on="2025-13-02", kind="club_meeting", participants=1, title_vi="x"),
            dict(held_on="2025-05-02", kind="club_meeting", participants=1, title_vi="a\x00b"),
        ]
        for body in bad:
            response = await client.post("/v1/plan/activities", json=body, headers=chair)
            assert response.status_code == 422, (body, response.text)
        assert (
            await client.post("/v1/plan/activities", json=bad[0] | {"kind": "club_meeting"}, headers=reporter)
        ).status_code == 403
        assert (await client.get("/v1/plan", params={"period": "2025"})).status_code == 401
        assert (await client.get("/v1/plan", params={"period": "2025"}, headers=reporter)).status_code == 403
        for path in ("/v1/reports/summary", "/v1/reports/completeness", "/v1/reports/export/cases"):
            assert (await client.get(path, params={"period": "2025"}, headers=reporter)).status_code == 403
            response = await client.get(path, params={"period": "2025..2024"}, headers=chair)
            assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "period"]
        three = await client.get("/v1/reports/review", params={"kind": "three_year", "number": "7"}, headers=chair)
        assert three.status_code == 200 and three.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.wordprocessingml"
        )
        assert (await client.get("/v1/reports/review", params={"kind": "annual"}, headers=chair)).status_code == 422
        assert (await client.get("/v1/plan", params={"period": "2025-13"}, headers=chair)).status_code == 422

        tracker = (await client.get("/v1/plan", params={"period": "2025"}, headers=chair)).json()
        status = {item["item_id"]: item["status"] for item in tracker["items"]}
        assert status == {
            "2025-action_programme": "done",
            "2025-thematic_programme": "done",
            "2025-children_council_support": "due",
            "2025-three_year_review": "due",
            "2025-board_training": "due",
        }
        quarters = {q["quarter"]: (q["held"], q["status"]) for q in tracker["board_meetings"]}
        assert quarters == {1: (1, "done"), 2: (1, "done"), 3: (0, "overdue"), 4: (0, "due")}
        assert [(c["held"], c["status"]) for c in tracker["club_meetings"]] == [(1, "due")]
        earlier = (await client.get("/v1/plan", params={"period": "2024"}, headers=chair)).json()
        assert {i["status"] for i in earlier["items"]} == {"overdue"}
        assert earlier["club_meetings"][0]["status"] == "overdue"


async def _drain(amqp_url: str, queue_name: str) -> list[Envelope]:
    connection = await aio_pika.connect(amqp_url)
    out = []
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name, ensure=False)
        while (message := await queue.get(fail=False, timeout=5)) is not None:
            out.append(Envelope.model_validate(json.loads(message.body)))
            await message.ack()
    return out


async def test_scheduler_reminds_each_silent_unit_and_each_plan_item_once_even_with_concurrent_runs(
    base_env, monkeypatch
):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SCHEDULER_INTERVAL", "0.2")
    monkeypatch.setenv("PLAN_REMINDER_EMAILS", "chunhiem@example.org")
    clock = FakeClock(vn(2025, 11, 28))
    settings = ReportingSettings()
    app = create_app(settings, clock=clock)
    amqp, ns = base_env["RABBITMQ_URL"], base_env["BROKER_NAMESPACE"]
    async with running(app) as client:
        runtime = app.state.runtime
        headers = await grant(runtime.sessions, store.credentials, "committee")
        upsert = UnitUpserted(
            code="xa-tan-dong",
            name_vi="Xã Tân Đông",
            kind="xã",
            valid_from=date(2025, 7, 1),
            contact_email="tandong@example.org",
        )
        report = MonthlyReportSubmitted(
            report_id=uuid.uuid4(),
            unit="phuong-tan-ninh",
            period="2025-11",
            revision=1,
            submitted_at=vn(2025, 12, 1),
            due_on=date(2025, 12, 5),
            on_time=True,
        )
        await publish(amqp, ns, [Envelope.wrap(upsert, producer="intake"), Envelope.wrap(report, producer="intake")])

        async def consumed() -> bool:
            async with runtime.sessions() as session:
                return len((await session.execute(select(store.events.c.seq))).all()) == 2

        await eventually(consumed)

        async def reminders() -> Counter:
            async with runtime.sessions() as session:
                rows = (await session.execute(select(store.outbox.c.envelope))).scalars().all()
            out: Counter = Counter()
            for body in rows:
                envelope = Envelope.model_validate_json(body)
                p = envelope.payload
                out[(envelope.type, p.get("period") or p.get("item_id"), p["stage"])] += 1
            return out

        async def run_replicas() -> None:
            # The app's own worker and two more contenders, as with three replicas.
            await asyncio.gather(*(scheduler.run_once(runtime) for _ in range(2)))

        async def after(moment: datetime, key: tuple[str, str, str], expected: int) -> Counter:
            clock.set(moment)
            await run_replicas()

            async def seen() -> Counter:
                counts = await reminders()
                return counts if counts[key] >= expected else Counter()

            return await eventually(seen)

        await after(vn(2025, 12, 3), ("monthly_report.reminder", "2025-11", "due"), 95)
        await after(vn(2025, 12, 6), ("monthly_report.reminder", "2025-11", "overdue"), 95)
        await after(vn(2025, 12, 6, 18), ("monthly_report.reminder", "2025-11", "overdue"), 95)
        counts = await after(vn(2025, 12, 20), ("plan.reminder", "club-2025", "due"), 1)
        assert counts[("monthly_report.reminder", "2025-11", "due")] == 95  # 96 communes, one reported
        assert counts[("monthly_report.reminder", "2025-11", "overdue")] == 95
        assert all(n == 1 for key, n in counts.items() if key[0] == "plan.reminder")
        plan_items = {key[1] for key in counts if key[0] == "plan.reminder" and key[2] == "due"}
        assert {"2025-children_council_support", "club-2025", "board-2025-Q4"} <= plan_items
        assert "2025-thematic_programme" in plan_items  # nothing recorded for it yet

        async def all_published() -> bool:
            async with runtime.sessions() as session:
                pending = select(store.outbox.c.id).where(store.outbox.c.published_at.is_(None))
                return not (await session.execute(pending)).first()

        await eventually(all_published)
        delivered = await _drain(amqp, Topology(ns).queue("notify"))
        tan_dong = [
            e
            for e in delivered
            if e.type == "monthly_report.reminder"
            and e.payload["unit"] == "xa-tan-dong"
            and e.payload["period"] == "2025-11"
        ]
        assert sorted(e.payload["stage"] for e in tan_dong) == ["due", "overdue"]
        assert tan_dong[0].payload["recipients"][0]["email"] == "tandong@example.org"
        assert tan_dong[0].payload["unit_name"] == "Xã Tân Đông"
        assert not [
            e
            for e in delivered
            if e.type == "monthly_report.reminder"
            and e.payload["unit"] == "phuong-tan-ninh"
            and e.payload["period"] == "2025-11"
        ]
        plan = [e for e in delivered if e.type == "plan.reminder" and e.payload["item_id"] == "club-2025"]
        assert plan[0].payload["recipients"][0]["email"] == "chunhiem@example.org"

        clock.set(vn(2025, 12, 6) + timedelta(days=1))
        await run_replicas()
        assert (await reminders()) == counts  # nothing new to say
        metrics = (await client.get("/metrics", headers=headers)).text
        assert "caunoi_monthly_reports_missing" in metrics
