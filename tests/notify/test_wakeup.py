"""New deliveries are sent at once, not at the next poll: the poll interval here is an hour, so only a wake-up
(in-process after the consumer's commit, or LISTEN/NOTIFY for rows another replica inserted) sends them."""

from __future__ import annotations

import uuid

from sqlalchemy import insert, select

from devtools.waiting import eventually
from services.notify import store
from services.notify.main import create_app
from shared.sealed import SEALED, Sealer, delivery_context
from tests.notify.conftest import case_assigned, holds, member, notify_env, publish, settings_from
from tests.support.asgi import running

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
