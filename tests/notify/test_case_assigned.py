"""On case.assigned every assigned member gets one email and one Zalo message, each recorded once."""

from __future__ import annotations

from email.header import decode_header

from devtools.waiting import eventually
from services.notify import store
from services.notify.main import create_app
from tests.notify.conftest import (
    case_assigned,
    deliveries,
    holds,
    member,
    notify_env,
    outbox_events,
    publish,
    settings_from,
)
from tests.support.asgi import running
from tests.support.credentials import grant
from tests.support.metrics import sample


async def test_each_assigned_member_gets_one_email_and_one_zalo_message_and_each_is_recorded(base_env, smtp, zalo):
    env = notify_env(base_env, smtp, zalo)
    lan = member("Trần Thị Lan", email="lan@tinhdoan-tayninh.vn", zalo="z-lan")
    hung = member("Nguyễn Văn Hùng", email="hung@soldtbxh.tayninh.gov.vn", zalo="z-hung")
    zalo.follow("z-lan")
    zalo.follow("z-hung")
    app = create_app(settings_from(env))
    async with running(app) as client:
        event = case_assigned(lan, hung, code="TN-2026-000123")
        (envelope,) = await publish(env, event)
        sessions = app.state.runtime.sessions

        async def all_sent():
            rows = await deliveries(sessions, source_event_id=envelope.event_id)
            return rows if len(rows) == 4 and all(r.status == "sent" for r in rows) else None

        rows = await eventually(all_sent)
        assert {(r.member_id, r.channel) for r in rows} == {
            (m.member_id, c) for m in (lan, hung) for c in ("email", "zalo")
        }
        assert len(smtp.messages) == 2 and len(zalo.messages) == 2
        mail = smtp.received_by("lan@tinhdoan-tayninh.vn")[0]
        assert mail["Subject"] == "Vụ việc TN-2026-000123 cần đồng chí hỗ trợ: Bạo lực thể chất – Phường Tân Ninh"
        assert not mail["Subject"].defects
        lan_email = next(r for r in rows if r.member_id == lan.member_id and r.channel == "email")
        assert mail["Message-ID"] == f"<{lan_email.id}@tinhdoan-tayninh.vn>"
        assert mail.get_body(("plain",)).get_content().count("TN-2026-000123") >= 1
        assert "Nhận xử lý" in mail.get_body(("html",)).get_content()
        assert "/accept" in mail.get_body(("plain",)).get_content()
        text = zalo.messages_to("z-hung")[0]["text"]
        assert "TN-2026-000123" in text and "Phường Tân Ninh" in text and "Cao" in text and "/decline" in text
        assert zalo.messages_to("z-hung")[0]["access_token"] == zalo.access_token

        sent = await eventually(lambda: _sent(sessions, 4))
        assert sorted(str(d["notification_id"]) for _, d in sent) == sorted(str(r.id) for r in rows), "each once"
        assert {d["channel"] for _, d in sent} == {"email", "zalo"}
        for env, _ in sent:  # one event per batch of outcomes, naming the event the messages answer
            assert (env.causation_id, env.correlation_id) == (envelope.event_id, envelope.correlation_id)
            assert (env.version, env.payload["case_id"]) == (2, str(event.case_id))

        chair = await grant(sessions, store.credentials, "chair")
        by_case = (await client.get(f"/v1/deliveries/by-case/{event.case_id}", headers=chair)).json()
        assert by_case["total"] == 4 and {d["status"] for d in by_case["deliveries"]} == {"sent"}
        own = await grant(sessions, store.credentials, "member", member_id=lan.member_id)
        mine = (await client.get("/v1/deliveries", headers=own)).json()
        assert mine["total"] == 2 and {d["recipient_name"] for d in mine["deliveries"]} == {"Trần Thị Lan"}
        assert (await client.get(f"/v1/deliveries/by-member/{hung.member_id}", headers=own)).status_code == 403
        assert (await client.get(f"/v1/deliveries/by-case/{event.case_id}")).status_code == 401
        assert (await client.get("/v1/deliveries/by-case/not-a-uuid", headers=chair)).status_code == 422
        metrics = (await client.get("/metrics")).text
        sent = {"outcome": "sent", "template": "case_assigned"}
        assert sample(metrics, "caunoi_notifications_total", channel="email", **sent) >= 2
        assert sample(metrics, "caunoi_notifications_total", channel="zalo", **sent) >= 2


async def _sent(sessions, count):
    """Every (envelope, delivery) of the `notification.sent` events in the outbox, once `count` are there."""
    events = await outbox_events(sessions, "notification.sent")
    sent = [(e, d) for e in events for d in e.payload["deliveries"]]
    return sent if len(sent) == count else None


async def test_a_redelivered_case_assigned_event_sends_nothing_twice(base_env, smtp, zalo):
    env = notify_env(base_env, smtp, zalo)
    lan = member("Trần Thị Lan", email="lan@tinhdoan-tayninh.vn", zalo="z-lan")
    zalo.follow("z-lan")
    app = create_app(settings_from(env))
    async with running(app):
        (envelope,) = await publish(env, case_assigned(lan))
        await eventually(lambda: _sent_count(app, envelope.event_id, 2))
        await publish(env, envelope, envelope)  # the broker redelivers the very same event twice more
        marker = case_assigned(member("Lê Minh", email="minh@tinhdoan-tayninh.vn"))
        await publish(env, marker)  # consumed after the duplicates: once it is sent, they were handled
        await eventually(holds(lambda: len(smtp.received_by("minh@tinhdoan-tayninh.vn")) == 1))
        assert len(smtp.received_by("lan@tinhdoan-tayninh.vn")) == 1
        assert len(zalo.messages_to("z-lan")) == 1
        assert len(await deliveries(app.state.runtime.sessions, source_event_id=envelope.event_id)) == 2


async def _sent_count(app, event_id, count):
    rows = await deliveries(app.state.runtime.sessions, source_event_id=event_id)
    return len([r for r in rows if r.status == "sent"]) == count


def test_subject_with_diacritics_is_rfc2047_encoded_on_the_wire():
    """The Subject header travels as encoded-words (ASCII on the wire) and decodes back to the same text."""
    import uuid

    from services.notify.smtp import build_email
    from services.notify.templates import Rendered

    settings = settings_from({"MAIL_FROM": "CLB <clb@tinhdoan-tayninh.vn>"})
    rendered = Rendered(
        "Vụ việc TN-2026-000001 cần Anh/Chị hỗ trợ: Xâm hại tình dục", "Nội dung", "<p>Nội dung</p>", ""
    )
    wire = build_email(uuid.uuid4(), "Trần Thị Lan", "lan@x.vn", rendered, settings).as_bytes()
    header_line = next(line for line in wire.split(b"\n") if line.startswith(b"Subject:"))
    assert header_line.isascii() and b"=?utf-8?" in header_line.lower()
    subject_block = wire.split(b"Subject: ", 1)[1].split(b"\nDate:", 1)[0].decode()
    decoded = "".join(
        part.decode(charset or "ascii") if isinstance(part, bytes) else part
        for part, charset in decode_header(subject_block.replace("\n", ""))
    )
    assert decoded == "Vụ việc TN-2026-000001 cần Anh/Chị hỗ trợ: Xâm hại tình dục"
