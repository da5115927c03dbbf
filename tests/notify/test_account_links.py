"""Invitation and reset links (`account.link_issued`): a Vietnamese email to the person, never Zalo, and the
link forgotten from the delivery log once sent."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from devtools.system import email_text
from devtools.waiting import eventually
from services.notify.main import create_app
from shared.events.intake import AccountLinkIssued
from tests.notify.conftest import deliveries, holds, notify_env, publish, settings_from
from tests.support.asgi import running
from tests.support.sealed import seal

LINK = "https://caunoi.tinhdoan-tayninh.vn/moi/" + "Zb9_" * 10 + "q-X"


def link_issued(kind: str, email: str) -> AccountLinkIssued:
    now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)  # 16:00 in Vietnam
    return AccountLinkIssued(
        account_id=(account_id := uuid.uuid4()),
        kind=kind,  # type: ignore[arg-type]
        sealed_link=seal("notify", LINK, f"account:{account_id}:link"),
        email=email,
        display_name="Võ Thị Hoa",
        issued_at=now,
        expires_at=now + timedelta(hours=2),
    )


async def test_a_reset_link_is_emailed_in_vietnamese_never_logged_and_forgotten_once_sent(base_env, smtp, zalo, caplog):
    caplog.set_level(logging.DEBUG)
    zalo.follow("z-hoa")
    app = create_app(settings_from(notify_env(base_env, smtp, zalo)))
    async with running(app):
        (envelope,) = await publish(notify_env(base_env, smtp, zalo), link_issued("reset", "hoa@x.vn"))
        await eventually(holds(lambda: len(smtp.received_by("hoa@x.vn")) == 1))
        (message,) = smtp.received_by("hoa@x.vn")
        assert str(message["Subject"]) == "Đặt lại mật khẩu hệ thống Cầu Nối"
        text = email_text(message)
        assert "Kính gửi đồng chí Võ Thị Hoa" in text and LINK in text and "18:00 ngày 29/11/2026" in text

        async def sent():
            rows = await deliveries(app.state.runtime.sessions, source_event_id=envelope.event_id)
            return rows if rows and all(r.status == "sent" for r in rows) else None

        (row,) = await eventually(sent)
        assert (row.channel, row.template) == ("email", "account_reset")
        assert "link" not in row.context and "_sealed" not in row.context and LINK not in str(row.context)
    assert zalo.messages == []
    assert LINK not in caplog.text
