"""Email paths (DOMAIN.md §8): 4xx retried, 5xx permanent with fallback to Zalo, dead-letter when nothing is
left, and the three TLS modes against a real SMTP server."""

from __future__ import annotations

import pytest

from devtools.mailsink import SmtpSink
from devtools.waiting import eventually
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
from tests.notify.test_zalo import reminder
from tests.support.asgi import running


async def test_4xx_is_retried_5xx_falls_back_to_zalo_and_a_lasting_4xx_is_dead_lettered(base_env, smtp, zalo):
    env = notify_env(base_env, smtp, zalo)
    zalo.follow("z-hoa")
    app = create_app(settings_from(env))
    async with running(app):
        sessions = app.state.runtime.sessions
        smtp.fail_next(451)
        (transient,) = await publish(env, reminder(member("Võ Thị Hoa", email="hoa@x.vn", zalo="z-hoa")))
        rows = await eventually(lambda: _final(sessions, transient.event_id, 1))
        assert (rows[0].channel, rows[0].status, rows[0].attempts) == ("email", "sent", 2)
        assert len(smtp.received_by("hoa@x.vn")) == 1 and zalo.messages == []

        smtp.fail_next(550, at="RCPT")
        (permanent,) = await publish(env, reminder(member("Võ Thị Hoa", email="hoa@x.vn", zalo="z-hoa")))
        rows = await eventually(lambda: _final(sessions, permanent.event_id, 2))
        email, zalo_row = sorted(rows, key=lambda r: r.channel)
        assert (email.status, email.attempts, email.reason) == ("fell_back", 1, "smtp_550: sent by zalo instead")
        assert (zalo_row.status, zalo_row.fallback_of) == ("sent", email.id)
        assert len(zalo.messages_to("z-hoa")) == 1

        smtp.fail_next(421, times=3)
        (lasting,) = await publish(env, reminder(member("Đỗ Văn Nam", email="nam@x.vn")))
        rows = await eventually(lambda: _final(sessions, lasting.event_id, 1))
        assert (rows[0].status, rows[0].attempts, rows[0].reason) == ("dead", 3, "smtp_421")
        failed = await outbox_events(sessions, "notification.failed")
        assert {(e.payload["reason"], e.payload["final"]) for e in failed} == {("smtp_550", False), ("smtp_421", True)}
        assert smtp.received_by("nam@x.vn") == []


async def _final(sessions, event_id, count):
    rows = await deliveries(sessions, source_event_id=event_id)
    done = [r for r in rows if r.status not in ("pending", "sending")]
    return rows if len(done) == count == len(rows) else None


@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_email_goes_out_over_mandatory_starttls_and_implicit_tls_with_authentication(base_env, zalo, mode):
    with SmtpSink(tls=mode, username="caunoi", password="mật-khẩu") as sink:
        env = notify_env(base_env, sink, zalo, SMTP_USERNAME="caunoi", SMTP_PASSWORD="mật-khẩu")
        app = create_app(settings_from(env))
        async with running(app):
            await publish(env, case_assigned(member("Lý Thị Mai", email="mai@x.vn")))
            await eventually(holds(lambda: len(sink.received_by("mai@x.vn")) == 1))
