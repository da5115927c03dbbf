"""Two notify instances on one database and one queue never send the same notification twice."""

from __future__ import annotations

from collections import Counter

from devtools.waiting import eventually
from services.notify.main import create_app
from tests.notify.conftest import case_assigned, holds, member, notify_env, publish, settings_from
from tests.support.asgi import running


async def test_two_instances_share_the_work_and_never_double_send(base_env, smtp, zalo):
    env = notify_env(base_env, smtp, zalo, NOTIFY_BATCH_SIZE="3", NOTIFY_DISPATCH_INTERVAL="0.01")
    smtp.delay = 0.01
    people = [member(f"Thành viên {i}", email=f"m{i}@x.vn", zalo=f"z{i}") for i in range(20)]
    for person in people:
        zalo.follow(person.zalo_user_id)
    first, second = create_app(settings_from(env)), create_app(settings_from(env))
    async with running(first), running(second):
        events = [case_assigned(p) for p in people] + [case_assigned(*people[:5], code="TN-2026-000999")]
        await publish(env, *events)
        total = len(people) + 5
        await eventually(holds(lambda: len(smtp.messages) >= total and len(zalo.messages) >= total), timeout=30)
        workers = [app.state.runtime.extras["dispatcher"] for app in (first, second)]
        await eventually(holds(lambda: sum(w.sent for w in workers) == 2 * total))  # each recorded once
    assert max(Counter(smtp.message_ids()).values()) == 1 and len(smtp.messages) == total
    assert len(zalo.messages) == total
    assert Counter(m["user_id"] for m in zalo.messages) == Counter(
        [p.zalo_user_id for p in people] + [p.zalo_user_id for p in people[:5]]
    )
