"""New deliveries are sent at once, not at the next poll: the poll interval here is an hour, so only a wake-up
(in-process after the consumer's commit, or LISTEN/NOTIFY for rows another replica inserted) sends them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from devtools.waiting import eventually
from services.notify import store
from services.notify.main import create_app
from shared.events.intake import ZaloUserActivity
from shared.sealed import SEALED, ZALO_USER_CONTEXT, Sealer, delivery_context
from tests.notify.conftest import case_assigned, holds, member, notify_env, publish, settings_from
from tests.support.asgi import running
from tests.support.sealed import seal

AN_HOUR = "3600"


async def test_deliveries_inserted_by_the_consumer_are_sent_without_waiting_for_the_poll(base_env, smtp, zalo):
    env = notify_env(base_env, smtp, zalo, NOTIFY_DISPATCH_INTERVAL=AN_HOUR)
    app = create_app(settings_from(env))
    async with running(app):
        for i in range(3):  # after the first, the dispatcher is asleep when each event arrives
            await publish(env, case_assigned(member(f"Thành viên {i}", email=f"m{i}@x.vn")))
            await eventually(holds(lambda i=i: len(smtp.received_by(f"m{i}@x.vn")) == 1))


async def test_a_delivery_inserted_by_another_replica_wakes_the_dispatcher_through_listen(base_env, smtp, zalo):
    env = notify_env(base_env, smtp, zalo, NOTIFY_DISPATCH_INTERVAL=AN_HOUR)
    app = create_app(settings_from(env))
    async with running(app):
        await publish(env, case_assigned(member("Mẫu", email="mau@x.vn")))
        await eventually(holds(lambda: len(smtp.received_by("mau@x.vn")) == 1))
        sessions = app.state.runtime.sessions
        d = store.deliveries
        async with sessions() as session:
            model = (await session.execute(select(d).where(d.c.email == "mau@x.vn"))).one()._asdict()
        sealer = Sealer.from_settings(app.state.runtime.settings)
        secrets = sealer.open(
            "notify", model["context"][SEALED], delivery_context(model["source_event_id"], model["recipient_key"])
        )
        for i in range(2):  # written straight to the table, as another replica's consumer would: no in-process wake
            source = uuid.uuid4()  # its sealed links are bound to the event and recipient, so sealed again for it
            context = {
                **model["context"],
                SEALED: sealer.seal("notify", secrets, delivery_context(source, model["recipient_key"])),
            }
            row = {
                **model,
                "id": uuid.uuid4(),
                "source_event_id": source,
                "context": context,
                "email": f"r{i}@x.vn",
                "status": "pending",
                "attempts": 0,
                "sent_at": None,
                "provider_id": None,
            }
            async with sessions() as session, session.begin():
                await session.execute(insert(d).values(row))
            await eventually(holds(lambda i=i: len(smtp.received_by(f"r{i}@x.vn")) == 1))


async def test_the_consumer_hands_its_deliveries_to_the_dispatcher_leased_without_a_claim(base_env, smtp, zalo):
    """The rows a `case.assigned` inserts are inserted leased (`sending`, first attempt) and handed to this
    process's dispatcher after the commit: sent with no claim (and no NOTIFY waking one), emails queued before
    Zalo messages, a Zalo recipient who unfollowed the OA (webhook) read by the INSERT and not messaged."""
    env = notify_env(base_env, smtp, zalo, NOTIFY_DISPATCH_INTERVAL=AN_HOUR)
    app = create_app(settings_from(env))
    gone, stays = member("Đã bỏ", email="gone@x.vn", zalo="z-gone"), member("Ở lại", email="stays@x.vn", zalo="z-stays")
    zalo.follow("z-stays")
    d, u = store.deliveries, store.zalo_users

    async def unfollowed() -> bool:
        async with app.state.runtime.sessions() as session:
            return await session.scalar(select(u.c.following).where(u.c.zalo_user_id == "z-gone")) is False

    async with running(app):
        await publish(env, case_assigned(member("Khởi động", email="warm@x.vn")))  # the startup claims are over
        await eventually(holds(lambda: len(smtp.received_by("warm@x.vn")) == 1))
        user = seal("notify", "z-gone", ZALO_USER_CONTEXT)
        await publish(env, ZaloUserActivity(user=user, activity="unfollow", at=datetime.now(UTC)))
        await eventually(unfollowed)
        dispatcher = app.state.runtime.extras["dispatcher"]
        claims: list[int] = []
        queued: list[str] = []
        claim, put = dispatcher.claim, dispatcher.queue.put_nowait

        async def counted(limit: int) -> Any:
            claims.append(limit)
            return await claim(limit)

        def queue(row: Any) -> None:
            queued.append(row.channel)
            put(row)

        dispatcher.claim, dispatcher.queue.put_nowait = counted, queue
        [envelope] = await publish(env, case_assigned(gone, stays))
        await eventually(holds(lambda: len(smtp.received_by("stays@x.vn")) == 1 and len(zalo.messages) == 1))
        await eventually(holds(lambda: len(smtp.received_by("gone@x.vn")) == 1))

        expected = {
            ("email", "gone@x.vn", "sent", 1),
            ("email", "stays@x.vn", "sent", 1),
            ("zalo", "gone@x.vn", "fell_back", 1),
            ("zalo", "stays@x.vn", "sent", 1),
        }

        async def recorded() -> bool:
            async with app.state.runtime.sessions() as session:
                rows = await session.execute(
                    select(d.c.channel, d.c.email, d.c.status, d.c.attempts).where(
                        d.c.source_event_id == envelope.event_id
                    )
                )
                return {tuple(r) for r in rows} == expected

        await eventually(recorded)
    assert claims == []
    assert queued == ["email", "email", "zalo", "zalo"]
    assert [m["user_id"] for m in zalo.messages] == ["z-stays"]


async def test_rows_the_dispatcher_has_no_room_for_stay_pending_for_a_claim(base_env, smtp, zalo):
    """More due rows than the dispatcher's queue takes: inserted `pending`, woken, claimed and sent; until a claim
    finds fewer rows than it asked for, the next event's rows are not handed over either (they would overtake)."""
    env = notify_env(base_env, smtp, zalo, NOTIFY_DISPATCH_INTERVAL=AN_HOUR, NOTIFY_BATCH_SIZE="2")
    app = create_app(settings_from(env))
    people = [member(f"Thành viên {i}", email=f"m{i}@x.vn") for i in range(3)]
    async with running(app):
        await publish(env, case_assigned(member("Khởi động", email="warm@x.vn")))
        await eventually(holds(lambda: len(smtp.received_by("warm@x.vn")) == 1))
        dispatcher = app.state.runtime.extras["dispatcher"]
        claimed: list[int] = []
        claim = dispatcher.claim

        async def counted(limit: int) -> Any:
            rows = await claim(limit)
            claimed.append(len(rows))
            return rows

        dispatcher.claim = counted
        await publish(env, case_assigned(*people))
        await eventually(holds(lambda: all(len(smtp.received_by(p.email)) == 1 for p in people)))
        d = store.deliveries
        async with app.state.runtime.sessions() as session:
            attempts = (
                await session.scalars(select(d.c.attempts).where(d.c.email.in_([p.email for p in people])))
            ).all()
    assert sum(claimed) == 3 and attempts == [1, 1, 1]
