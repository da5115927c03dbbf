"""A person's sign-in across the system: intake invites, notify emails the link (a real SMTP server), the
person sets a password and signs in, and routing accepts the session credential once `credential.issued`
has reached it; it refuses it after sign-out, and after the session's expiry by its own (injected) clock."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

from devtools.mailsink import SmtpSink
from devtools.system import email_text
from devtools.waiting import eventually
from devtools.zalo_stub import ZaloStub
from services.intake import store
from services.intake.main import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.notify.main import create_app as notify_app
from services.routing.main import create_app as routing_app
from services.routing.settings import RoutingSettings
from shared.clock import FakeClock
from tests.intake.signin_support import PASSWORD
from tests.notify.conftest import notify_env, settings_from
from tests.support.asgi import running
from tests.support.credentials import grant

START = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
EMAIL = "tran.thi.lan@tinhdoan-tayninh.vn"
SUBJECT = "Lời mời sử dụng hệ thống Cầu Nối của Câu lạc bộ tư vấn, giúp đỡ trẻ em tỉnh Tây Ninh"


async def test_invitation_email_sign_in_and_the_session_credential_in_another_service(base_env, caplog):
    caplog.set_level(logging.DEBUG)
    clock = FakeClock(START)
    values = {key.lower(): value for key, value in base_env.items()}
    intake = intake_app(
        IntakeSettings(**values, web_base_url="https://caunoi.example", password_hash_memory_kib=8192), clock=clock
    )
    routing = routing_app(RoutingSettings(**values, timer_poll_interval=0.2), clock=clock)
    with SmtpSink() as smtp, ZaloStub() as zalo:
        notify = notify_app(settings_from(notify_env(base_env, smtp, zalo)), clock=clock)
        async with AsyncExitStack() as stack:
            intake_client = await stack.enter_async_context(running(intake))
            routing_client = await stack.enter_async_context(running(routing))
            await stack.enter_async_context(running(notify))
            admin = await grant(intake.state.runtime.sessions, store.credentials, "admin")
            created = await intake_client.post(
                "/v1/accounts", json={"role": "chair", "name": "Trần Thị Lan", "email": EMAIL}, headers=admin
            )
            assert created.status_code == 201, created.text

            async def mailed():
                return smtp.received_by(EMAIL)

            (message,) = await eventually(mailed, timeout=20)
            assert str(message["Subject"]) == SUBJECT
            text = email_text(message)
            assert "Kính gửi đồng chí Trần Thị Lan" in text and "Đặt mật khẩu" in text
            links = [word for word in text.split() if word.startswith("https://caunoi.example/moi/")]
            assert links, text
            token = links[0].rsplit("/", 1)[1]
            assert len(token) >= 40
            assert token not in caplog.text  # the link is a secret: no service logged it
            assert zalo.messages == []  # email only

            set_password = await intake_client.post(f"/v1/invitations/{token}", json={"password": PASSWORD})
            assert set_password.status_code == 204
            signed = await intake_client.post("/v1/sessions", json={"email": EMAIL, "password": PASSWORD})
            assert signed.status_code == 201, signed.text
            bearer = {"Authorization": f"Bearer {signed.json()['token']}"}

            async def routing_answers(status: int):
                async def probe() -> bool:
                    return (await routing_client.get("/v1/members", headers=bearer)).status_code == status

                return probe

            await eventually(await routing_answers(200), timeout=10)  # after credential.issued reached routing
            assert (await intake_client.delete("/v1/sessions/current", headers=bearer)).status_code == 204
            await eventually(await routing_answers(401), timeout=10)  # after credential.revoked

            again = await intake_client.post("/v1/sessions", json={"email": EMAIL, "password": PASSWORD})
            bearer = {"Authorization": f"Bearer {again.json()['token']}"}
            await eventually(await routing_answers(200), timeout=10)
            clock.advance(timedelta(hours=12))  # SESSION_ABSOLUTE_HOURS: routing judges by its clock
            assert (await routing_client.get("/v1/members", headers=bearer)).status_code == 401
            assert (await intake_client.get("/v1/me", headers=bearer)).status_code == 401
