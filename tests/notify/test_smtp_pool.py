"""The SMTP connection pool reuses connections and reconnects when the server has dropped one."""

from __future__ import annotations

import uuid
from typing import Any

from aiosmtpd.controller import Controller

from devtools.mailsink import free_port
from devtools.waiting import eventually
from services.notify.settings import NotifySettings
from services.notify.smtp import build_email
from services.notify.smtp_pool import SmtpPool
from services.notify.templates import Rendered
from tests.notify.conftest import holds


class _Keep:
    """aiosmtpd handler keeping the recipients of each accepted message."""

    def __init__(self) -> None:
        self.received: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(list(envelope.rcpt_tos))
        return "250 OK"


def _email(settings: NotifySettings, to: str) -> Any:
    rendered = Rendered(subject="Hồ sơ mới", text="Nội dung", html="<p>Nội dung</p>", zalo="Nội dung")
    return build_email(uuid.uuid4(), "Thành viên", to, rendered, settings)


async def test_the_pool_reuses_one_connection_and_reconnects_after_the_server_drops_it():
    handler = _Keep()
    port = free_port()
    # The server closes connections idle for 0.3 s ("421 timeout"), as real servers do after minutes.
    server = Controller(handler, hostname="127.0.0.1", port=port, server_kwargs={"timeout": 0.3})
    server.start()
    try:
        settings = NotifySettings(smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none", smtp_pool_size=1)
        pool = SmtpPool(settings)
        first = await pool.send(_email(settings, "a@x.vn"))
        second = await pool.send(_email(settings, "b@x.vn"))
        assert first.ok and second.ok and pool.opened == 1  # the second message reused the connection

        (idle,) = pool._idle
        await eventually(holds(lambda: not idle.is_connected))  # the server dropped it
        third = await pool.send(_email(settings, "c@x.vn"))
        assert third.ok and pool.opened == 2
        assert handler.received == [["a@x.vn"], ["b@x.vn"], ["c@x.vn"]]
        await pool.close()
    finally:
        server.stop()


async def test_a_refused_recipient_is_reported_and_the_connection_stays_usable(smtp):
    settings = NotifySettings(smtp_host=smtp.host, smtp_port=smtp.port, smtp_tls="none", smtp_pool_size=1)
    pool = SmtpPool(settings)
    smtp.fail_next(550, at="RCPT")
    refused = await pool.send(_email(settings, "gone@x.vn"))
    accepted = await pool.send(_email(settings, "here@x.vn"))
    assert (refused.ok, refused.code) == (False, 550)
    assert accepted.ok and pool.opened == 1
    assert len(smtp.received_by("here@x.vn")) == 1 and smtp.received_by("gone@x.vn") == []
    await pool.close()
