"""Zalo OA paths (DOMAIN.md §7, issue 5): each error code, fallback to email, night deferral, token refresh
with single-use refresh tokens across replicas."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from devtools.waiting import eventually
from services.notify import store
from services.notify.main import create_app
from shared.events.routing import DeadlineReminder
from tests.notify.conftest import deliveries, holds, member, notify_env, outbox_events, publish, settings_from
from tests.support.asgi import running
from tests.support.metrics import sample

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def reminder(*recipients, urgency="high") -> DeadlineReminder:
    return DeadlineReminder(
        case_id=uuid.uuid4(),
        code="TN-2026-000777",
        deadline="support_plan",
        urgency=urgency,
        due_at=datetime.now(UTC) + timedelta(days=2),
        recipients=recipients,
    )


def zalo_first(name: str, user: str):
    return member(name, email=f"{user}@tinhdoan-tayninh.vn", zalo=user, channels=("zalo", "email"))


async def test_each_zalo_error_code_is_handled_as_issue_5_says(base_env, smtp, zalo):
    unreachable = {
        -213: "zalo_not_following",
        -227: "zalo_user_inactive",
        -230: "zalo_no_interaction_7_days",
        -232: "zalo_no_interaction_7_days",
        -244: "zalo_user_restricted",
    }
    people = {code: zalo_first(f"Thành viên {code}", f"u{-code}") for code in [*unreachable, -32, -234, -201, -216]}
    ok = zalo_first("Phạm Thu Hà", "u-ok")
    for code, person in people.items():
        zalo.follow(person.zalo_user_id)
        zalo.fail_next(code, user_id=person.zalo_user_id, times=5 if code == -201 else 1)
    zalo.follow("u-ok")
    env = notify_env(base_env, smtp, zalo)
    app = create_app(settings_from(env))
    async with running(app) as client:
        (envelope,) = await publish(env, reminder(ok, *people.values()))
        sessions = app.state.runtime.sessions

        async def settled():
            rows = await deliveries(sessions, source_event_id=envelope.event_id)
            busy = [r for r in rows if r.status in ("pending", "sending") and r.member_id != people[-234].member_id]
            return rows if len(rows) >= len(people) + 1 and not busy else None

        rows = await eventually(settled, timeout=20)
        by = {(r.member_id, r.channel): r for r in rows}
        assert by[(ok.member_id, "zalo")].status == "sent" and (ok.member_id, "email") not in by  # preferred only
        for code, reason in unreachable.items():
            person = people[code]
            assert by[(person.member_id, "zalo")].status == "fell_back"
            assert by[(person.member_id, "zalo")].reason.startswith(reason)
            assert by[(person.member_id, "email")].status == "sent"
            assert by[(person.member_id, "email")].reason == f"fallback after zalo: {reason}"
            assert len(smtp.received_by(person.email)) == 1
        assert by[(people[-32].member_id, "zalo")].status == "sent"  # rate limit: retried later, delivered
        assert by[(people[-32].member_id, "zalo")].attempts == 2
        assert by[(people[-216].member_id, "zalo")].status == "sent"  # invalid token: refreshed and resent
        assert zalo.messages_to("u216")[0]["access_token"] == zalo.access_token != env["ZALO_ACCESS_TOKEN"]
        unknown = by[(people[-201].member_id, "zalo")]
        assert (unknown.status, unknown.attempts, unknown.reason) == ("dead", 3, "zalo_error_-201")
        assert (people[-201].member_id, "email") not in by  # unknown errors retry, then dead-letter
        night = by[(people[-234].member_id, "zalo")]
        morning = night.next_attempt_at.astimezone(VN)
        assert night.status == "pending" and night.attempts == 0 and night.reason == "zalo_not_at_night"
        assert (morning.hour, morning.minute) == (7, 0)
        assert timedelta(0) < morning - datetime.now(UTC) <= timedelta(days=1)
        assert zalo.messages_to("u234") == [] and smtp.received_by("u234@tinhdoan-tayninh.vn") == []

        failed = await eventually(lambda: _failed(sessions, len(unreachable) + 1))
        finals = {e.payload["reason"]: e.payload["final"] for e in failed}
        assert finals["zalo_error_-201"] is True and finals["zalo_not_following"] is False
        operator = await _operator(sessions)
        dead = (await client.get("/v1/deliveries", params={"status": "dead"}, headers=operator)).json()
        assert [d["id"] for d in dead["deliveries"]] == [str(unknown.id)]
        metrics = (await client.get("/metrics")).text
        assert sample(metrics, "caunoi_notifications_dead_lettered_total", channel="zalo") >= 1
        again = await client.post(f"/v1/deliveries/{unknown.id}/retry", headers=operator)
        assert again.status_code == 200 and again.json()["status"] == "pending"
        await eventually(holds(lambda: len(zalo.messages_to("u201")) == 1))  # the injected failures are used up
        assert (await client.post(f"/v1/deliveries/{unknown.id}/retry", headers=operator)).status_code == 409


async def _failed(sessions, count):
    events = await outbox_events(sessions, "notification.failed")
    return events if len(events) >= count else None


async def _operator(sessions):
    from tests.support.credentials import grant

    return await grant(sessions, store.credentials, "operator")


async def test_an_expired_token_is_refreshed_once_across_two_replicas_and_the_new_pair_is_stored(base_env, smtp, zalo):
    env = notify_env(base_env, smtp, zalo, NOTIFY_CONCURRENCY="4")
    users = [f"z{i}" for i in range(8)]
    for user in users:
        zalo.follow(user)
    first, second = create_app(settings_from(env)), create_app(settings_from(env))
    async with running(first), running(second):
        zalo.expire_access_token()
        old_refresh = zalo.refresh_token
        recipients = [member(f"Thành viên {u}", zalo=u, channels=("zalo",)) for u in users]
        await publish(env, reminder(*recipients[:4]), reminder(*recipients[4:]))
        await eventually(holds(lambda: len(zalo.messages) == len(users)), timeout=20)
        assert [r["ok"] for r in zalo.refreshes] == [True]  # one refresh; nobody reused the single-use token
        assert zalo.refreshes[0]["refresh_token"] == old_refresh
        assert {m["access_token"] for m in zalo.messages} == {zalo.access_token}
        async with first.state.runtime.sessions() as session:
            pair = (await session.execute(select(store.zalo_tokens))).one()
        assert (pair.access_token, pair.refresh_token, pair.generation) == (zalo.access_token, zalo.refresh_token, 1)
        assert pair.expires_at > datetime.now(UTC) + timedelta(hours=24)  # expires_in came as the string "90000"
