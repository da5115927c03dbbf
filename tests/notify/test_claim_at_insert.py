"""Deliveries planned while the dispatcher has nothing older to send are inserted already claimed and handed to it
after the consumer's commit (`services/notify/handover.py`): no claim statement, no second write of the row, and
no NOTIFY to wake every replica for work that is already taken. When older due rows wait in the table, the new
ones are inserted pending and the claimer takes them, by due time."""

from __future__ import annotations

from typing import Any

import asyncpg

from devtools.waiting import eventually
from services.notify.main import create_app
from shared.db import asyncpg_dsn
from tests.notify.conftest import case_assigned, deliveries, holds, member, notify_env, publish, settings_from
from tests.support.asgi import running

AN_HOUR = "3600"


async def _claim_spy(app: Any) -> tuple[Any, list[int]]:
    """The running dispatcher, once it listens for other replicas' rows and is caught up, with the number of rows
    each of its claims returned. Its LISTEN connection, once connected, makes it fall behind (the only fall before
    a test's first event) and claim: had that claim run during a test, it could have found nothing and left the
    dispatcher caught up again (it did, once, on a busy machine)."""
    dispatcher = await eventually(holds(lambda: app.state.runtime.extras.get("dispatcher")))
    await eventually(holds(lambda: dispatcher._falls >= 1))
    await eventually(holds(lambda: dispatcher.caught_up))
    claimed: list[int] = []
    claim = dispatcher.claim

    async def counting_claim(limit: int) -> list[Any]:
        rows = await claim(limit)
        claimed.append(len(rows))
        return rows

    dispatcher.claim = counting_claim
    return dispatcher, claimed


def _all_recorded(app: Any, count: int) -> Any:
    """A probe for `eventually`: the rows, once `count` of them have their outcome recorded."""

    async def probe() -> list[Any] | None:
        rows = await deliveries(app.state.runtime.sessions)
        return rows if len(rows) == count and all(r.status != "sending" for r in rows) else None

    return probe


async def test_deliveries_planned_while_caught_up_are_sent_without_being_claimed(base_env, smtp, zalo, database_url):
    env = notify_env(base_env, smtp, zalo, NOTIFY_DISPATCH_INTERVAL=AN_HOUR)
    for i in range(3):
        zalo.follow(f"z{i}")
    app = create_app(settings_from(env))
    listener = await asyncpg.connect(asyncpg_dsn(database_url))
    notified: list[str] = []
    await listener.add_listener("notify_deliveries", lambda *args: notified.append(args[-1]))
    try:
        async with running(app):
            _, claimed = await _claim_spy(app)
            notified.clear()
            for i in range(3):
                await publish(env, case_assigned(member(f"Thành viên {i}", email=f"m{i}@x.vn", zalo=f"z{i}")))
                await eventually(holds(lambda i=i: len(smtp.received_by(f"m{i}@x.vn")) == 1))
            await eventually(holds(lambda: len(zalo.messages) == 3))
            rows = await eventually(_all_recorded(app, 6))
    finally:
        await listener.close()
    assert sum(claimed) == 0, f"claims took {claimed}: the rows should have been handed over at insert"
    assert (
        sorted((r.channel, r.status, r.attempts) for r in rows)
        == [("email", "sent", 1)] * 3 + [("zalo", "sent", 1)] * 3
    )
    assert notified == [], "rows inserted claimed are no other replica's work: no NOTIFY"


async def test_while_behind_new_rows_go_through_the_claimer_then_the_handover_resumes(base_env, smtp, zalo):
    env = notify_env(base_env, smtp, zalo, NOTIFY_DISPATCH_INTERVAL=AN_HOUR)
    app = create_app(settings_from(env))
    async with running(app):
        dispatcher, claimed = await _claim_spy(app)
        dispatcher.fall_behind()  # what another replica's NOTIFY of pending rows says: older work may be waiting
        await publish(env, case_assigned(member("Một", email="mot@x.vn")))
        await eventually(holds(lambda: len(smtp.received_by("mot@x.vn")) == 1))
        assert sum(claimed) == 1, f"claims took {claimed}: the row was inserted pending and claimed"
        await eventually(holds(lambda: dispatcher.caught_up))  # that claim found nothing more
        await publish(env, case_assigned(member("Hai", email="hai@x.vn")))
        await eventually(holds(lambda: len(smtp.received_by("hai@x.vn")) == 1))
        assert sum(claimed) == 1, f"claims took {claimed}: the second row was handed over at insert"
        rows = await eventually(_all_recorded(app, 2))
        assert sorted((r.email, r.status, r.attempts) for r in rows) == [
            ("hai@x.vn", "sent", 1),
            ("mot@x.vn", "sent", 1),
        ]
