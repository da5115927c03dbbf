"""Quiet hours and channel preference through the running service: a routine reminder waits for the end of
the member's quiet hours and then goes out on the first preferred channel only; a critical case goes out
at once, on every channel, quiet hours or not."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, time, timedelta

from devtools.waiting import eventually
from services.notify.main import create_app
from shared.clock import FakeClock
from shared.events.routing import DeadlineReminder
from tests.notify.conftest import case_assigned, deliveries, holds, member, notify_env, publish, settings_from
from tests.support.asgi import running

NIGHT = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 23:00 in Tây Ninh
MORNING = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # 06:00 the next day in Tây Ninh


async def test_routine_messages_wait_for_morning_on_the_preferred_channel_and_critical_ones_do_not(
    base_env, smtp, zalo
):
    env = notify_env(base_env, smtp, zalo)
    lan = member(
        "Trần Thị Lan",
        email="lan@tinhdoan-tayninh.vn",
        zalo="z-lan",
        channels=("zalo", "email"),
        quiet_start=time(22, 0),
        quiet_end=time(6, 0),
    )
    zalo.follow("z-lan")
    clock = FakeClock(NIGHT)
    app = create_app(settings_from(env), clock=clock)
    async with running(app):
        sessions = app.state.runtime.sessions
        (reminder,) = await publish(
            env,
            DeadlineReminder(
                case_id=uuid.uuid4(),
                code="TN-2026-000200",
                deadline="acceptance",
                due_at=NIGHT + timedelta(hours=1),
                urgency="medium",
                recipients=(lan,),
            ),
        )
        rows = await eventually(lambda: deliveries(sessions, source_event_id=reminder.event_id))
        assert [(r.channel, r.status) for r in rows] == [("zalo", "pending")]  # the preferred channel only
        assert rows[0].next_attempt_at == MORNING

        (critical,) = await publish(env, case_assigned(lan, urgency="critical", code="TN-2026-000201"))

        async def critical_sent():
            sent = await deliveries(sessions, source_event_id=critical.event_id)
            return sent if len(sent) == 2 and all(r.status == "sent" for r in sent) else None

        sent = await eventually(critical_sent)
        assert {r.channel for r in sent} == {"email", "zalo"}  # every channel, at 23:00
        await asyncio.sleep(0.5)  # a few dispatcher rounds: the reminder must still wait
        assert [r.status for r in await deliveries(sessions, source_event_id=reminder.event_id)] == ["pending"]
        assert not any("TN-2026-000200" in m["text"] for m in zalo.messages)

        clock.set(MORNING + timedelta(minutes=1))
        await eventually(holds(lambda: any("TN-2026-000200" in m["text"] for m in zalo.messages)))
        assert not any("TN-2026-000200" in str(m["Subject"]) for m in smtp.messages)
